using Blip.Sandbox.Cli;

namespace Blip.Actors.IntegrationTests.Sandbox.Executable;

/// <summary><c>blip-sandbox</c>'s options as System.CommandLine parses them (the process-level checks are in
/// <see cref="SandboxExecutableTests"/>).</summary>
public sealed class SandboxCommandLineTests
{
    [Fact]
    public void No_options_give_the_documented_defaults()
    {
        var command = SandboxCommandLine.Parse([]).Command!;
        var defaults = new SandboxCommand();

        Assert.Equal(defaults, command with { Repos = defaults.Repos });
        Assert.Equal(new[] { "demo-org/demo-repo" }, command.Repos);
        Assert.Null(command.Duration);
    }

    [Fact]
    public void Every_option_is_read_with_a_space_or_an_equals_sign()
    {
        var command = SandboxCommandLine.Parse(
            ["--vms", "5", "--repos=a/b, c/d,A/B", "--jobs", "0", "--nodes", "2", "--no-demo", "--webhooks", "--state-dir", "/tmp/x", "--duration=30"]).Command!;

        Assert.Equal(5, command.Vms);
        Assert.Equal(new[] { "a/b", "c/d" }, command.Repos);
        Assert.Equal(0, command.Jobs);
        Assert.Equal(2, command.Nodes);
        Assert.False(command.Demo);
        Assert.True(command.Controller);
        Assert.True(command.Webhooks);
        Assert.Equal("/tmp/x", command.StateDir);
        Assert.Equal(TimeSpan.FromSeconds(30), command.Duration);
    }

    [Fact]
    public void Set_is_repeatable_and_passes_each_setting_the_last_of_a_name_winning()
    {
        var command = SandboxCommandLine.Parse(
            ["--set", "Blip__JobRetention=00:00:10", "--set=Blip__PollInterval=00:00:03", "--set", "Blip__JobRetention=00:00:20", "--set", "Blip__RunnerGroupId="]).Command!;

        Assert.Equal(
            new Dictionary<string, string> { ["Blip__JobRetention"] = "00:00:20", ["Blip__PollInterval"] = "00:00:03", ["Blip__RunnerGroupId"] = "" },
            command.Settings);
    }

    [Fact]
    public void A_postgres_connection_string_implies_the_postgres_store()
    {
        var command = SandboxCommandLine.Parse(["--postgres", "Host=127.0.0.1;Database=blip"]).Command!;

        Assert.Equal("postgres", command.Store);
        Assert.Equal("Host=127.0.0.1;Database=blip", command.PostgresConnectionString);
    }

    [Theory]
    [InlineData(new[] { "--vms", "0" }, "--vms '0' must be a whole number from 1 to 100")]
    [InlineData(new[] { "--jobs", "-3" }, "--jobs '-3' must be a whole number from 0 to 1000")]
    [InlineData(new[] { "--nodes", "six" }, "--nodes 'six' must be a whole number from 1 to 5")]
    [InlineData(new[] { "--repos", "a/b,nope" }, "--repos 'nope' is not owner/name")]
    [InlineData(new[] { "--store", "mysql" }, "--store 'mysql' must be sqlite or postgres")]
    [InlineData(new[] { "--store", "sqlite", "--postgres", "Host=x" }, "--postgres needs --store postgres (or no --store)")]
    [InlineData(new[] { "--webhooks", "--no-controller" }, "--webhooks needs a controller to deliver to (drop --no-controller)")]
    [InlineData(new[] { "--bogus" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "--set", "JobRetention=00:00:10" }, "--set 'JobRetention=00:00:10' must be Blip__Name=value")]
    [InlineData(new[] { "--set", "Blip__JobRetention" }, "--set 'Blip__JobRetention' must be Blip__Name=value")]
    [InlineData(new[] { "--set", "Blip__ConnectionString=Host=x;Password=p" }, "--set Blip__ConnectionString: a secret does not go on a command line")]
    [InlineData(new[] { "--set", "Blip__Kubeconfig=/tmp/k" }, "--set Blip__Kubeconfig: the sandbox sets Kubeconfig itself")]
    [InlineData(new[] { "--vms" }, "Required argument missing for option: '--vms'")]
    public void A_bad_command_line_is_one_error_naming_the_option_and_the_value(string[] args, string expected)
    {
        var parsed = SandboxCommandLine.Parse(args);

        Assert.Null(parsed.Command);
        Assert.StartsWith(expected, parsed.Error);
        Assert.EndsWith("(usage: blip-sandbox --help)", parsed.Error);
        Assert.DoesNotContain('\n', parsed.Error!);
    }

    [Fact]
    public void Help_describes_every_option()
    {
        var help = SandboxCommandLine.Parse(["--help"]).Text!;

        Assert.All(
            ["--vms <N>", "--repos", "--jobs <N>", "--nodes <N>", "--store", "--postgres", "--no-demo", "--no-controller", "--webhooks", "--state-dir <DIR>", "--duration <SECONDS>"],
            option => Assert.Contains(option, help));
        Assert.Contains("dotnet run --project src/Blip.Sandbox", help);
    }
}
