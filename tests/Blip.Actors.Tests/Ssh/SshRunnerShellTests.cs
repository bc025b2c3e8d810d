using Blip.Actors.Config;
using Blip.Actors.Ssh;

namespace Blip.Actors.Tests.Ssh;

public sealed class SshRunnerShellTests
{
    [Fact]
    public void The_command_reads_the_config_from_stdin_and_names_no_secret()
    {
        var shell = new SshRunnerShell(new ControllerSecrets(), new SshOptions { RunnerDir = "/opt/runner" });

        var command = shell.BuildCommand();

        Assert.Contains("cd '/opt/runner'", command);
        Assert.Contains("IFS= read -r ACTIONS_RUNNER_INPUT_JITCONFIG", command);
        Assert.Contains("setsid nohup ./run.sh >/dev/null 2>&1 </dev/null &", command);
        Assert.DoesNotContain("--jitconfig", command);
    }

    [Fact]
    public void The_command_waits_for_the_runner_to_listen_or_exit_and_tells_an_outdated_runner_apart()
    {
        var command = new SshRunnerShell(new ControllerSecrets(), new SshOptions()).BuildCommand();

        Assert.Contains("BLIP_RUNNER_READY=", command, StringComparison.Ordinal);
        Assert.Contains($"[ $i -lt {SshRunnerShell.ReadyWaitTenths} ]", command, StringComparison.Ordinal);
        Assert.Contains($"if [ $rc -eq {SshRunnerShell.RunShOutdatedExitCode} ]", command, StringComparison.Ordinal);
    }

    [Fact]
    public void The_version_is_read_from_the_listener_in_the_runner_dir() =>
        Assert.Equal("cd '/opt/runner' 2>/dev/null && ./bin/Runner.Listener --version 2>/dev/null </dev/null | head -n 1",
            new SshRunnerShell(new ControllerSecrets(), new SshOptions { RunnerDir = "/opt/runner" }).BuildVersionCommand());

    [Theory]
    [InlineData("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKq2 comment", true)]
    [InlineData("ssh-rsa AAAAB3NzaC1yc2E", false)]
    [InlineData("ssh-ed25519", false)]
    [InlineData("ssh-ed25519 not-base64!", false)]
    [InlineData("", false)]
    public void Only_ed25519_host_keys_are_pinnable(string annotation, bool ok) =>
        Assert.Equal(ok, SshRunnerShell.ParseHostKey(annotation) is not null);

    [Fact]
    public void The_connection_offers_ml_kem_and_curve25519_but_not_the_costly_ntru_prime_exchange()
    {
        var connection = new Renci.SshNet.ConnectionInfo("127.0.0.1", 22, "runner", new Renci.SshNet.PasswordAuthenticationMethod("runner", "unused"));
        Assert.Contains("sntrup761x25519-sha512", connection.KeyExchangeAlgorithms.Keys); // SSH.NET offers it by default

        SshRunnerShell.WithoutCostlyKeyExchanges(connection);

        var offered = connection.KeyExchangeAlgorithms.Keys.ToList();
        Assert.DoesNotContain(offered, k => k.StartsWith("sntrup", StringComparison.Ordinal));
        Assert.Equal("mlkem768x25519-sha256", offered[0]);
        Assert.Contains("curve25519-sha256", offered);
    }
}
