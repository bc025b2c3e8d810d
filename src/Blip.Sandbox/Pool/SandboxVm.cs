using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Blip.Sandbox.Shared;

namespace Blip.Sandbox.Pool;

/// <summary>
/// One pool VM's machinery: its directory, host key, loopback address and the sshd (or the silent
/// listener of <see cref="VmMisbehaviour.HangHandshake"/>) that stands in for the guest.
/// </summary>
internal sealed class SandboxVm
{
    private readonly VmPoolOptions _options;
    private readonly string _clientPublicKeyLine;
    private readonly string _runnerScriptPath;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _sshd;
    private TcpListener? _silentListener;
    private bool _released;
    private readonly List<Socket> _silentConnections = [];

    public SandboxVm(string name, string vmDir, VmPoolOptions options, string clientPublicKeyLine, string runnerScriptPath)
    {
        Name = name;
        VmDir = vmDir;
        _options = options;
        _clientPublicKeyLine = clientPublicKeyLine;
        _runnerScriptPath = runnerScriptPath;
    }

    public string Name { get; }

    /// <summary>The VM object's uid: names are reused, so this tells one incarnation from the next.</summary>
    public string? Uid { get; set; }

    /// <summary>Deleted (deletionTimestamp set): replaced already, its guest shutting down.</summary>
    public bool Terminating { get; set; }
    public string VmDir { get; }
    public string HomeDir => Path.Combine(VmDir, "home");
    public IPAddress? Address { get; private set; }
    public SshKeys.KeyPair? HostKey { get; private set; }
    public VmMisbehaviour Misbehaviour { get; private set; }
    public CancellationTokenSource Lifetime { get; } = new();
    public bool RunnerExited { get; set; }

    public VmInfo? Info => Address is null ? null : new VmInfo(Name, Address, _options.SshPort, VmDir);

    private string HostKeyPath => Path.Combine(VmDir, "ssh_host_ed25519_key");
    private string WrongHostKeyPath => Path.Combine(VmDir, "wrong_host_ed25519_key");
    private string ConfigPath => Path.Combine(VmDir, "sshd_config");

    /// <summary>Makes the VM's files and starts sshd on a free loopback address; returns once it listens.</summary>
    public async Task BootAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await BootLockedAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task BootLockedAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(HomeDir);
        LinuxUsers.SetMode(VmDir, LinuxUsers.Mode755);
        LinuxUsers.SetMode(HomeDir, LinuxUsers.Mode755);
        await LinuxUsers.ChownAsync(HomeDir, _options.RunnerUser, ct: ct);
        HostKey = await SshKeys.GenerateEd25519Async(HostKeyPath, $"root@{Name}", ct);
        var authorizedKeys = Path.Combine(VmDir, "authorized_keys");
        await File.WriteAllTextAsync(authorizedKeys, _clientPublicKeyLine + "\n", ct);
        LinuxUsers.SetMode(authorizedKeys, LinuxUsers.Mode644);

        var tried = new HashSet<IPAddress>();
        for (var attempt = 1; ; attempt++)
        {
            var address = LoopbackAddresses.Allocate(_options.SshPort, tried);
            tried.Add(address);
            Address = address;
            try
            {
                await StartSshdAsync(HostKeyPath, ct);
                return;
            }
            catch (SshdDidNotStartException) when (attempt < 5)
            {
                // Another process took the address between our probe and sshd's bind: try the next one.
                LoopbackAddresses.Release(address, _options.SshPort);
                Address = null;
            }
        }
    }

    public async Task SetMisbehaviourAsync(VmMisbehaviour misbehaviour, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (Lifetime.IsCancellationRequested)
            {
                throw new InvalidOperationException($"VM {Name} is shut down");
            }

            StopListeners();
            Misbehaviour = misbehaviour;
            switch (misbehaviour)
            {
                case VmMisbehaviour.None:
                    await StartSshdAsync(HostKeyPath, ct);
                    break;
                case VmMisbehaviour.WrongHostKey:
                    if (!File.Exists(WrongHostKeyPath))
                    {
                        await SshKeys.GenerateEd25519Async(WrongHostKeyPath, $"impostor@{Name}", ct);
                    }

                    await StartSshdAsync(WrongHostKeyPath, ct);
                    break;
                case VmMisbehaviour.RefuseConnections:
                    break;
                case VmMisbehaviour.HangHandshake:
                    StartSilentListener();
                    break;
                case VmMisbehaviour.RunnerMissing:
                    await StartSshdAsync(HostKeyPath, ct, await WriteForceCommandAsync("runner-missing.sh", $$"""
                        # VmMisbehaviour.RunnerMissing: this VM has no {{_options.RunnerDir}}.
                        from='{{_options.RunnerDir}}'
                        to="$from-absent-on-this-vm"
                        exec /bin/bash -c "${SSH_ORIGINAL_COMMAND//"$from"/"$to"}"
                        """, ct));
                    break;
                case VmMisbehaviour.DropChannelAfterStart:
                    await StartSshdAsync(HostKeyPath, ct, await WriteForceCommandAsync("drop-channel.sh", """
                        # VmMisbehaviour.DropChannelAfterStart: the first start command (the one that runs run.sh; not the version
                        # read before it) runs, then its sshd dies before the exit status.
                        marker="$BLIP_VM_DIR/.channel-dropped"
                        case "$SSH_ORIGINAL_COMMAND" in *run.sh*) ;; *) exec /bin/bash -c "$SSH_ORIGINAL_COMMAND" ;; esac
                        if [ -e "$marker" ]; then exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"; fi
                        : > "$marker"
                        /bin/bash -c "$SSH_ORIGINAL_COMMAND"
                        pid=$PPID
                        while [ -n "$pid" ] && [ "$pid" != 1 ] && [ "$(ps -o comm= -p "$pid")" != sshd ]; do pid=$(ps -o ppid= -p "$pid" | tr -d ' '); done
                        [ -n "$pid" ] && [ "$pid" != 1 ] && kill -9 "$pid"
                        """, ct));
                    break;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Kills sshd and every process the VM's sessions started; frees the address. Idempotent.</summary>
    public void Shutdown()
    {
        Lifetime.Cancel();
        // A boot or misbehaviour switch in flight sees the cancellation within one poll and lets go.
        var locked = _gate.Wait(TimeSpan.FromSeconds(10));
        try
        {
            StopListeners();
            ProcessReaper.KillByEnvironment(new Dictionary<string, string> { ["BLIP_VM_NAME"] = Name, ["BLIP_VM_DIR"] = HomeDir });
            if (!_released && Address is { } address)
            {
                _released = true;
                LoopbackAddresses.Release(address, _options.SshPort);
            }
        }
        finally
        {
            if (locked)
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Writes a session script for sshd's ForceCommand (root-owned, world-readable) and returns its path.</summary>
    private async Task<string> WriteForceCommandAsync(string fileName, string body, CancellationToken ct)
    {
        var path = Path.Combine(VmDir, fileName);
        await File.WriteAllTextAsync(path, "#!/bin/bash\n" + body.ReplaceLineEndings("\n") + "\n", ct);
        LinuxUsers.SetMode(path, LinuxUsers.Mode755);
        return path;
    }

    private async Task StartSshdAsync(string hostKeyPath, CancellationToken ct, string? forceCommand = null)
    {
        var address = Address ?? throw new InvalidOperationException($"VM {Name} has no address");
        var config = new StringBuilder()
            .AppendLine($"Port {_options.SshPort}")
            .AppendLine($"ListenAddress {address}")
            .AppendLine($"HostKey {hostKeyPath}")
            .AppendLine($"PidFile {Path.Combine(VmDir, "sshd.pid")}")
            .AppendLine($"AuthorizedKeysFile {Path.Combine(VmDir, "authorized_keys")}")
            .AppendLine("UsePAM no")
            .AppendLine("StrictModes no")
            .AppendLine("PasswordAuthentication no")
            .AppendLine("KbdInteractiveAuthentication no")
            .AppendLine("PubkeyAuthentication yes")
            .AppendLine("PermitRootLogin no")
            .AppendLine($"AllowUsers {_options.RunnerUser}")
            .AppendLine("MaxStartups 100")
            .AppendLine("PrintMotd no")
            .AppendLine($"SetEnv BLIP_VM_NAME={Name} BLIP_VM_DIR={HomeDir} BLIP_RUNNER_SCRIPT={_runnerScriptPath} BLIP_RUNNER_VERSION={_options.RunnerVersion}")
            .AppendLine(forceCommand is null ? "" : $"ForceCommand {forceCommand}")
            .ToString();
        await File.WriteAllTextAsync(ConfigPath, config, ct);

        var log = Path.Combine(VmDir, "sshd.log");
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in new[] { "-c", "exec /usr/sbin/sshd -D -e -f \"$0\" </dev/null >>\"$1\" 2>&1", ConfigPath, log })
        {
            psi.ArgumentList.Add(a);
        }

        var sshd = Process.Start(psi) ?? throw new SshdDidNotStartException($"VM {Name}: could not start sshd");
        _sshd = sshd;

        var deadline = DateTime.UtcNow + _options.SshdStartTimeout;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (sshd.HasExited)
            {
                _sshd = null;
                throw new SshdDidNotStartException($"VM {Name}: sshd on {address}:{_options.SshPort} exited with {sshd.ExitCode}: {Tail(log)}");
            }
            if (await IsListeningAsync(address, _options.SshPort, ct))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                StopListeners();
                throw new SshdDidNotStartException($"VM {Name}: sshd on {address}:{_options.SshPort} did not listen within {_options.SshdStartTimeout}: {Tail(log)}");
            }
            await Task.Delay(20, ct);
        }
    }

    private void StartSilentListener()
    {
        var listener = new TcpListener(Address!, _options.SshPort);
        listener.Start();
        _silentListener = listener;
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var socket = await listener.AcceptSocketAsync();
                    lock (_silentConnections)
                    {
                        _silentConnections.Add(socket);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The listener was stopped.
            }
        });
    }

    private void StopListeners()
    {
        if (_sshd is { } sshd)
        {
            try
            {
                if (!sshd.HasExited)
                {
                    sshd.Kill(entireProcessTree: true);
                    sshd.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            sshd.Dispose();
            _sshd = null;
        }
        if (_silentListener is { } listener)
        {
            listener.Stop();
            _silentListener = null;
            lock (_silentConnections)
            {
                foreach (var s in _silentConnections)
                {
                    s.Dispose();
                }

                _silentConnections.Clear();
            }
        }
    }

    private static async Task<bool> IsListeningAsync(IPAddress address, int port, CancellationToken ct)
    {
        using var client = new TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(TimeSpan.FromMilliseconds(500));
        try
        {
            await client.ConnectAsync(address, port, attempt.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return false;
        }
    }

    private static string Tail(string path)
    {
        try
        {
            return string.Join(" | ", File.ReadLines(path).TakeLast(3));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private sealed class SshdDidNotStartException(string message) : Exception(message);
}
