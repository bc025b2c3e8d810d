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
    [InlineData(new[] { "cluster", "leave" }, "Option '--address' is required; usage: blipctl cluster leave -a ADDR")]
    [InlineData(new[] { "cluster", "frobnicate" }, "Unrecognized command or argument 'frobnicate' (blipctl cluster --help lists the commands)")]
    [InlineData(new[] { "cluster" }, "no command given (blipctl cluster --help lists the commands)")]
    [InlineData(new[] { "vms", "--bogus", "1" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "jobs", "show" }, "Required argument missing for command: 'show'; usage: blipctl jobs show ID")]
    [InlineData(new[] { "jobs", "show", "abc" }, "'abc' is not a job id")]
    [InlineData(new[] { "actor", "hierarchy", "-d", "0" }, "--depth must be a positive whole number, not '0'")]
    [InlineData(new[] { "vms", "-o", "yaml" }, "unknown output format 'yaml' (text or json)")]
    [InlineData(new[] { "vms", "--endpoint", "ftp://x" }, "--endpoint 'ftp://x' is not an http(s) URL")]
    [InlineData(new[] { "log", "peek", "-c" }, "Required argument missing for option: '-c'")]
    [InlineData(new string[0], "no command given (blipctl --help lists the commands)")]
    public void Usage_errors_name_what_is_wrong_on_one_line(string[] args, string expected)
    {
        var parsed = CommandLine.Parse(args, NoEnvironment);

        Assert.Null(parsed.Command);
        Assert.Contains(expected, parsed.Error);
        Assert.DoesNotContain('\n', parsed.Error!);
    }

    [Fact]
    public void Help_at_the_top_lists_the_command_groups_and_the_exit_codes()
    {
        var parsed = CommandLine.Parse(["--help"], NoEnvironment);

        Assert.Null(parsed.Error);
        Assert.All(CommandLine.Commands.Select(c => c.Words[0]).Distinct(), word => Assert.Contains(word, parsed.Help));
        Assert.Contains("2 usage error", parsed.Help);
        Assert.Contains("--endpoint", parsed.Help);
    }

    [Fact]
    public void Every_command_has_help_with_its_options()
    {
        Assert.All(CommandLine.Commands, c =>
        {
            var parsed = CommandLine.Parse([.. c.Words, "--help"], NoEnvironment);

            Assert.Null(parsed.Error);
            Assert.Contains(c.Summary, parsed.Help);
            Assert.All(c.Options, o => Assert.Contains("--" + o.Long, parsed.Help));
        });
    }

    [Fact]
    public void Help_wins_over_a_missing_option()
    {
        var parsed = CommandLine.Parse(["cluster", "leave", "--help"], NoEnvironment);

        Assert.Null(parsed.Error);
        Assert.Contains("--address", parsed.Help);
    }

    [Fact]
    public void Completions_for_a_partial_word_come_from_the_suggest_directive()
    {
        // What a shell's completion script sends: the directive, then the command line typed so far as one argument.
        var parsed = CommandLine.Parse(["[suggest:10]", "cluster sh"], NoEnvironment);

        Assert.Null(parsed.Error);
        Assert.Contains("show", parsed.Help!.Split('\n', StringSplitOptions.TrimEntries));
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
        Assert.StartsWith("blipctl: Option '--address' is required; usage: blipctl cluster leave -a ADDR", stderr.ToString());
    }
}
