using Blip.Sandbox.Shared;

namespace Blip.Sandbox.Pool;

/// <summary>
/// Provisions the machine a pool's VMs run on, before the pool starts: the pool's state dir (reachable by the runner
/// user), the host itself (the runner user, /run/sshd, the shared run.sh dispatcher), the pool's runner script and the
/// SSH client key its VMs trust. Each VM's own sshd, keys and address are <see cref="SandboxVm"/>'s.
/// </summary>
internal static class PoolHost
{
    private static readonly SemaphoreSlim HostSetupGate = new(1, 1);

    /// <summary>The run.sh every sandbox VM shares: runs the script of the pool the calling VM belongs to.</summary>
    public const string RunShDispatcher = """
        #!/bin/bash
        # Installed by the Blip sandbox. Each sandbox VM's sshd exports BLIP_RUNNER_SCRIPT, the runner
        # script of the pool it belongs to; several pools can share this machine's runner user.
        exec "${BLIP_RUNNER_SCRIPT:?not a Blip sandbox VM session}" "$@"

        """;

    /// <summary>The <c>bin/Runner.Listener</c> every sandbox VM shares: answers <c>--version</c> as the real listener does
    /// (one line, <c>2.330.0</c>) with the version of the calling VM (its sshd exports BLIP_RUNNER_VERSION).</summary>
    public const string ListenerStub = """
        #!/bin/bash
        # Installed by the Blip sandbox: only --version, the runner itself is run.sh (the fake runner).
        if [ "${1:-}" = --version ]; then echo "${BLIP_RUNNER_VERSION:?not a Blip sandbox VM session}"; exit 0; fi
        echo "the sandbox's Runner.Listener only answers --version" >&2
        exit 1

        """;

    /// <summary>Prepares the host for a pool with <paramref name="options"/>; fails with what to fix when the machine
    /// cannot hold it (no sshd, a state dir the runner user cannot reach).</summary>
    public static async Task<PreparedPoolHost> PrepareAsync(VmPoolOptions options, CancellationToken ct)
    {
        if (!File.Exists("/usr/sbin/sshd"))
        {
            throw new InvalidOperationException("the sandbox VMs need sshd: install openssh-server");
        }

        var stateDir = Path.GetFullPath(options.StateDir);
        Directory.CreateDirectory(Path.Combine(stateDir, "vms"));
        // sshd reads authorized_keys as the runner user, and the runner runs the pool's script: both must reach them.
        LinuxUsers.SetMode(stateDir, LinuxUsers.Mode755);
        LinuxUsers.SetMode(Path.Combine(stateDir, "vms"), LinuxUsers.Mode755);
        for (var dir = Directory.GetParent(stateDir); dir is not null; dir = dir.Parent)
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0)
            {
                throw new InvalidOperationException(
                    $"the VM pool's state dir {stateDir} must be reachable by user {options.RunnerUser}, but {dir.FullName} is not searchable by others (chmod o+x)");
            }
        }
        await PrepareMachineAsync(options, ct);

        var runnerScript = Path.Combine(stateDir, "run.sh");
        await File.WriteAllTextAsync(runnerScript, options.RunnerScript.ReplaceLineEndings("\n"), ct);
        LinuxUsers.SetMode(runnerScript, LinuxUsers.Mode755);

        var clientKey = options.ClientKey ?? await SshKeys.GenerateEd25519Async(Path.Combine(stateDir, "client_key"), $"blip-sandbox-{options.PoolName}", ct);
        return new PreparedPoolHost(stateDir, runnerScript, clientKey);
    }

    /// <summary>
    /// Once per machine state, safe under concurrency (in-process gate, cross-process file lock): the
    /// runner user (unlocked, so sshd without PAM lets it in), /run/sshd, and the run.sh dispatcher.
    /// </summary>
    private static async Task PrepareMachineAsync(VmPoolOptions options, CancellationToken ct)
    {
        await HostSetupGate.WaitAsync(ct);
        try
        {
            await using var hostLock = await AcquireFileLockAsync(Path.Combine(Path.GetTempPath(), "blip-sandbox-host-setup.lock"), ct);
            if (LinuxUsers.Find(options.RunnerUser) is null)
            {
                var add = await ProcessRunner.RunAsync("useradd", ["-m", "-p", "*", "-s", "/bin/bash", options.RunnerUser], ct: ct);
                if (add.ExitCode != 0 && LinuxUsers.Find(options.RunnerUser) is null)
                {
                    add.EnsureSuccess("useradd");
                }
            }
            if (LinuxUsers.IsLocked(options.RunnerUser))
            {
                (await ProcessRunner.RunAsync("usermod", ["-p", "*", options.RunnerUser], ct: ct)).EnsureSuccess("usermod");
            }

            Directory.CreateDirectory("/run/sshd");
            LinuxUsers.SetMode("/run/sshd", LinuxUsers.Mode755);

            Directory.CreateDirectory(options.RunnerDir);
            await LinuxUsers.ChownAsync(options.RunnerDir, options.RunnerUser, ct: ct);
            await InstallAsync(Path.Combine(options.RunnerDir, "run.sh"), RunShDispatcher, options.RunnerUser, ct);
            var bin = Path.Combine(options.RunnerDir, "bin");
            Directory.CreateDirectory(bin);
            await LinuxUsers.ChownAsync(bin, options.RunnerUser, ct: ct);
            await InstallAsync(Path.Combine(bin, "Runner.Listener"), ListenerStub, options.RunnerUser, ct);
        }
        finally
        {
            HostSetupGate.Release();
        }
    }

    /// <summary>Writes an executable the runner user owns, atomically, unless it holds <paramref name="content"/> already.</summary>
    private static async Task InstallAsync(string path, string content, string owner, CancellationToken ct)
    {
        if (File.Exists(path) && await File.ReadAllTextAsync(path, ct) == content)
        {
            return;
        }

        var temp = path + ".tmp-" + Environment.ProcessId;
        await File.WriteAllTextAsync(temp, content, ct);
        LinuxUsers.SetMode(temp, LinuxUsers.Mode755);
        await LinuxUsers.ChownAsync(temp, owner, ct: ct);
        File.Move(temp, path, overwrite: true);
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }
        }
    }
}

/// <summary>What <see cref="PoolHost.PrepareAsync"/> made: the absolute state dir, the pool's runner script, its client key.</summary>
internal sealed record PreparedPoolHost(string StateDir, string RunnerScriptPath, SshKeys.KeyPair ClientKey);
