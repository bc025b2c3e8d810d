extern alias blipctl;
using blipctl::Blip.Ctl;

namespace Blip.Actors.Tests.Inspection;

public sealed class CommandLineTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    [Fact]
    public void A_two_word_command_with_defaults()
    {
        var parsed = CommandLine.Parse(["cluster", "show"], NoEnvironment);

        Assert.Null(parsed.Error);
        Assert.Equal("cluster show", parsed.Command!.Name);
        Assert.Equal(new Uri("http://127.0.0.1:9110"), parsed.Globals!.Endpoint);
        Assert.Null(parsed.Globals.Token);
        Assert.Equal(OutputFormat.Text, parsed.Globals.Output);
    }

    [Fact]
    public void Short_and_long_options_and_global_options_anywhere()
    {
        var parsed = CommandLine.Parse(["-o", "json", "cluster-sharding", "locate", "-r", "job", "--id=42", "--endpoint", "http://10.0.0.1:9110", "--token", "t"], NoEnvironment);

        Assert.Null(parsed.Error);
        Assert.Equal("cluster-sharding locate", parsed.Command!.Name);
        Assert.Equal("job", parsed.Option("region"));
        Assert.Equal("42", parsed.Option("id"));
        Assert.Equal(OutputFormat.Json, parsed.Globals!.Output);
        Assert.Equal("t", parsed.Globals.Token);
        Assert.Equal(new Uri("http://10.0.0.1:9110"), parsed.Globals.Endpoint);
    }

    [Fact]
    public void Endpoint_and_token_come_from_the_environment_unless_given()
    {
        var environment = new Dictionary<string, string?> { ["BLIPCTL_ENDPOINT"] = "http://127.0.0.1:1234", ["BLIPCTL_TOKEN"] = "env-token" };

        var fromEnvironment = CommandLine.Parse(["vms"], environment);
        var given = CommandLine.Parse(["vms", "--endpoint", "http://127.0.0.1:5678"], environment);

        Assert.Equal(new Uri("http://127.0.0.1:1234"), fromEnvironment.Globals!.Endpoint);
        Assert.Equal("env-token", fromEnvironment.Globals.Token);
        Assert.Equal(new Uri("http://127.0.0.1:5678"), given.Globals!.Endpoint);
    }

    [Theory]
    [InlineData(new[] { "cluster", "leave" }, "missing -a ADDR")]
    [InlineData(new[] { "cluster", "frobnicate" }, "unknown command 'cluster frobnicate'")]
    [InlineData(new[] { "vms", "--bogus", "1" }, "unknown option '--bogus'")]
    [InlineData(new[] { "jobs", "show" }, "expected ID")]
    [InlineData(new[] { "jobs", "show", "abc" }, "'abc' is not a job id")]
    [InlineData(new[] { "actor", "hierarchy", "-d", "0" }, "--depth must be a positive whole number")]
    [InlineData(new[] { "vms", "-o", "yaml" }, "unknown output format 'yaml'")]
    [InlineData(new[] { "vms", "--endpoint", "ftp://x" }, "is not an http(s) URL")]
    [InlineData(new[] { "log", "peek", "-c" }, "option -c needs a value")]
    [InlineData(new string[0], "no command given")]
    public void Usage_errors_say_what_is_wrong(string[] args, string expected)
    {
        var parsed = CommandLine.Parse(args, NoEnvironment);

        Assert.Null(parsed.Command);
        Assert.Contains(expected, parsed.Error);
    }

    [Fact]
    public void Help_lists_every_command()
    {
        var parsed = CommandLine.Parse(["--help"], NoEnvironment);

        Assert.All(CommandLine.Commands, c => Assert.Contains("blipctl " + c.Name, parsed.Help));
    }

    [Fact]
    public async Task A_usage_error_exits_2_with_one_line_on_stderr()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await Cli.RunAsync(["cluster", "leave"], NoEnvironment, stdout, stderr, CancellationToken.None);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", stdout.ToString());
        Assert.Single(stderr.ToString().TrimEnd().Split('\n'));
        Assert.StartsWith("blipctl: missing -a ADDR", stderr.ToString());
    }
}
