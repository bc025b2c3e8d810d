using System.Security.Cryptography;
using Blip.Actors.Config;
using Blip.Actors.Runners;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Blip.Actors.Ssh;

/// <summary>
/// <see cref="IRunnerShell"/> on SSH.NET: user/port/runner dir from options, the client key from Secret
/// <c>ssh-gateway-client-key</c>, the host key pinned to the VM's <c>blip.io/host-key</c> (compared in
/// constant time; a different key fails the handshake). The command line carries no secret: the JIT config is
/// written to the channel's stdin, read into the environment and handed to run.sh as
/// <c>ACTIONS_RUNNER_INPUT_JITCONFIG</c>. run.sh runs detached with all three streams redirected, so the
/// command returns at once, and in a session of its own (setsid), so it survives the disconnect even mid-command.
/// </summary>
public sealed class SshRunnerShell(ControllerSecrets secrets, SshOptions options) : IRunnerShell
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    // Exit codes of the start script, so failures are told apart without parsing output.
    private const int NoRunnerDir = 97;
    private const int NoConfigOnStdin = 98;
    private const int NoRunScript = 99;
    private const int RunnerExitedAtOnce = 96;
    private const int RunnerAlreadyRunning = 95;

    /// <summary>What run.sh exits with when its lock is taken: a runner already runs on the VM (images/github-runner/files/run.sh).</summary>
    public const int RunShLockedExitCode = 10;

    private const int RunnerRefusedOutdated = 94;

    /// <summary>What run.sh exits with when GitHub refused its runner as outdated ("Runner version vX is deprecated and
    /// cannot receive messages"; the listener itself exits 1 with that line): images/github-runner/files/run.sh.</summary>
    public const int RunShOutdatedExitCode = 7;

    /// <summary>How long the start command waits for run.sh to say its runner listens (it creates the file named by
    /// <c>BLIP_RUNNER_READY</c>) or to exit: a runner refused at once is told apart from one that runs. A run.sh that never
    /// says so costs this wait once per start and is taken as running.</summary>
    internal const int ReadyWaitTenths = 100;

    internal string BuildVersionCommand() =>
        $"cd '{options.RunnerDir}' 2>/dev/null && ./bin/Runner.Listener --version 2>/dev/null </dev/null | head -n 1";

    internal string BuildCommand() =>
        $"cd '{options.RunnerDir}' 2>/dev/null || exit {NoRunnerDir}; " +
        $"test -x ./run.sh || exit {NoRunScript}; " +
        $"IFS= read -r ACTIONS_RUNNER_INPUT_JITCONFIG || exit {NoConfigOnStdin}; " +
        "export ACTIONS_RUNNER_INPUT_JITCONFIG; " +
        "signal=\"$(mktemp -d)\" || signal=/nonexistent; BLIP_RUNNER_READY=\"$signal/ready\"; export BLIP_RUNNER_READY; " +
        "setsid nohup ./run.sh >/dev/null 2>&1 </dev/null & pid=$!; " +
        "unset ACTIONS_RUNNER_INPUT_JITCONFIG; " +
        $"i=0; while kill -0 $pid 2>/dev/null && [ ! -e \"$BLIP_RUNNER_READY\" ] && [ $i -lt {ReadyWaitTenths} ]; do sleep 0.1; i=$((i+1)); done; " +
        "if kill -0 $pid 2>/dev/null || [ -e \"$BLIP_RUNNER_READY\" ]; then rm -rf \"$signal\"; echo started $pid; exit 0; fi; " +
        "rm -rf \"$signal\"; wait $pid; rc=$?; " +
        $"if [ $rc -eq {RunShLockedExitCode} ]; then exit {RunnerAlreadyRunning}; fi; " +
        $"if [ $rc -eq {RunShOutdatedExitCode} ]; then exit {RunnerRefusedOutdated}; fi; exit {RunnerExitedAtOnce}";

    public async Task<RunnerStart> StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct)
    {
        var pinned = ParseHostKey(target.HostKey)
            ?? throw new RunnerShellException(RunnerShellFailure.HostKeyMismatch, PinnedHostKey.Malformed(target.VmName, target.HostKey));
        var keyBytes = secrets.SshClientKey
            ?? throw new RunnerShellException(RunnerShellFailure.AuthenticationFailed, $"Secret {ControllerSecrets.SshKeySecretName} has no {ControllerSecrets.SshKeyKey}");

        using var keyStream = new MemoryStream(keyBytes, writable: false);
        using var key = new PrivateKeyFile(keyStream);
        var connection = new ConnectionInfo(target.Address, options.SshPort, options.SshUser, new PrivateKeyAuthenticationMethod(options.SshUser, key))
        {
            Timeout = ConnectTimeout,
        };
        WithoutCostlyKeyExchanges(connection);

        using var client = new SshClient(connection);
        var presentedOther = false;
        client.HostKeyReceived += (_, e) =>
        {
            var ok = CryptographicOperations.FixedTimeEquals(e.HostKey, pinned);
            presentedOther |= !ok;
            e.CanTrust = ok;
        };

        try
        {
            await client.ConnectAsync(ct).ConfigureAwait(false);
        }
        catch (SshAuthenticationException e)
        {
            throw new RunnerShellException(RunnerShellFailure.AuthenticationFailed, $"VM {target.VmName}: client key refused", e);
        }
        catch (Exception e) when (presentedOther)
        {
            throw new RunnerShellException(RunnerShellFailure.HostKeyMismatch, $"VM {target.VmName} presented a host key other than blip.io/host-key: refused", e);
        }
        catch (Exception e) when (e is SshException or System.Net.Sockets.SocketException or TimeoutException or SshOperationTimeoutException or IOException)
        {
            throw new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {target.VmName} ({target.Address}:{options.SshPort}) unreachable: {e.Message}", e);
        }

        var version = await ReadVersionAsync(client, target.VmName, ct).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(options.RunnerMinimumVersion) && RunnerVersion.IsBelow(version, options.RunnerMinimumVersion))
        {
            client.Disconnect();
            throw new RunnerShellException(RunnerShellFailure.RunnerOutdated,
                $"VM {target.VmName}: runner {version} is older than Blip:RunnerMinimumVersion {options.RunnerMinimumVersion}; not started")
            { RunnerVersion = version };
        }

        using var command = client.CreateCommand(BuildCommand());
        command.CommandTimeout = CommandTimeout;
        try
        {
            var execution = command.ExecuteAsync(ct);
            await WriteConfigAsync(command, config, target.VmName, ct).ConfigureAwait(false);
            await execution.ConfigureAwait(false);
        }
        catch (SshOperationTimeoutException e)
        {
            throw new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {target.VmName}: starting the runner timed out", e, mayHaveStarted: true);
        }
        catch (Exception e) when (e is SshException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            throw new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {target.VmName}: connection lost while starting the runner ({e.GetType().Name})", e, mayHaveStarted: true);
        }
        finally
        {
            client.Disconnect();
        }

        switch (command.ExitStatus)
        {
            case 0:
                return new RunnerStart(version);
            case null:
                // The channel closed without an exit status (the connection broke mid-command): run.sh may be running.
                throw new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {target.VmName}: the channel closed before the start command reported its exit status", mayHaveStarted: true);
            case NoRunnerDir:
                throw new RunnerShellException(RunnerShellFailure.RunnerDirMissing, $"VM {target.VmName}: runner dir {options.RunnerDir} is missing");
            case NoRunScript:
                throw new RunnerShellException(RunnerShellFailure.RunScriptMissing, $"VM {target.VmName}: {options.RunnerDir}/run.sh is missing or not executable");
            case RunnerAlreadyRunning:
                throw new RunnerShellException(RunnerShellFailure.AlreadyRunning, $"VM {target.VmName}: run.sh refused a second start (its lock is held: a runner already runs)");
            case RunnerRefusedOutdated:
                throw new RunnerShellException(RunnerShellFailure.RunnerOutdated, $"VM {target.VmName}: GitHub refused runner {version ?? "(version unknown)"} as outdated (run.sh exited {RunShOutdatedExitCode})")
                { RunnerVersion = version };
            case RunnerExitedAtOnce:
                throw new RunnerShellException(RunnerShellFailure.RunnerFailed, $"VM {target.VmName}: run.sh exited at once");
            default:
                throw new RunnerShellException(RunnerShellFailure.RunnerFailed, $"VM {target.VmName}: starting the runner exited with {command.ExitStatus}");
        }
    }

    /// <summary>Key exchanges SSH.NET offers that the controller does not: sntrup761x25519 (preferred by SSH.NET after
    /// ML-KEM, and what OpenSSH 9.0–9.8 on a VM picks from that list) costs ~100 ms of CPU per handshake in SSH.NET's
    /// managed NTRU Prime code. 50 runner starts at once spent most of the controller's CPU there (the benchmarks'
    /// <c>capacity</c> scenario, dotnet-trace). mlkem768x25519-sha256 (OpenSSH 9.9+) stays first, then curve25519-sha256
    /// (every OpenSSH since 6.5); what crosses the channel is a single-use JIT config, worthless once redeemed.</summary>
    public static readonly IReadOnlyList<string> SkippedKeyExchanges = ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"];

    /// <summary>Removes <see cref="SkippedKeyExchanges"/> from what the connection offers.</summary>
    public static void WithoutCostlyKeyExchanges(ConnectionInfo connection)
    {
        foreach (var name in SkippedKeyExchanges)
        {
            connection.KeyExchangeAlgorithms.Remove(name);
        }
    }

    /// <summary>What <c>bin/Runner.Listener --version</c> prints, over the session already open; null when it prints
    /// nothing usable (a failure here is not the start's: the start command says what is wrong).</summary>
    private async Task<string?> ReadVersionAsync(SshClient client, string vmName, CancellationToken ct)
    {
        using var command = client.CreateCommand(BuildVersionCommand());
        command.CommandTimeout = CommandTimeout;
        try
        {
            await command.ExecuteAsync(ct).ConfigureAwait(false);
        }
        catch (SshOperationTimeoutException e)
        {
            throw new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {vmName}: reading the runner version timed out", e);
        }
        catch (Exception e) when (e is SshException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            throw new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {vmName}: connection lost while reading the runner version ({e.GetType().Name})", e);
        }

        return RunnerVersion.Parse(command.Result)?.ToString();
    }

    /// <summary>The key blob of <c>ssh-ed25519 AAAA… [comment]</c>, or null when it is not one.</summary>
    public static byte[]? ParseHostKey(string? annotation) => PinnedHostKey.Parse(annotation);

    /// <summary>The JIT config, then EOF. A failure here is a broken channel like any other (run.sh may have started).</summary>
    private static async Task WriteConfigAsync(SshCommand command, JitConfig config, string vmName, CancellationToken ct)
    {
        var line = System.Text.Encoding.UTF8.GetBytes(config.Value + "\n");
        try
        {
            await using var stdin = command.CreateInputStream();
            await stdin.WriteAsync(line, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not RunnerShellException)
        {
            throw new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {vmName}: writing the JIT config to the channel failed ({e.GetType().Name})", e, mayHaveStarted: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(line);
        }
    }
}
