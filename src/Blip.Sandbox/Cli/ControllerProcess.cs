using System.Diagnostics;
using Blip.Sandbox.Shared;

namespace Blip.Sandbox.Cli;

/// <summary>How one controller node is started: its cluster port, the seed nodes, its journal.</summary>
/// <param name="Port">Its cluster port on 127.0.0.1; fixed, so a restarted node comes back at the address the others know.</param>
/// <param name="SeedNodes">Every node's address, the first node's first (it forms the cluster when nobody answers).</param>
/// <param name="ConnectionString">PostgreSQL, shared by the nodes; null: each node's own SQLite file.</param>
/// <param name="Settings">More <c>Blip__*</c> settings (tests shorten intervals with them; the benchmarks' profiles).</param>
/// <param name="ManagementPort">Its management endpoint's port on 127.0.0.1 (blipctl, /metrics, health).</param>
public sealed record ControllerNode(
    int Index,
    int Port,
    IReadOnlyList<string> SeedNodes,
    string? ConnectionString = null,
    IReadOnlyDictionary<string, string>? Settings = null,
    int ManagementPort = 0)
{
    public string Address => ControllerProcess.AddressOf(Port);

    public string ManagementUrl => $"http://127.0.0.1:{ManagementPort}";

    /// <summary>Nodes 0..n-1 on free loopback ports, each with all of them as seed nodes.</summary>
    public static IReadOnlyList<ControllerNode> Plan(int count, string? connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        var ports = Enumerable.Range(0, count).Select(_ => ControllerProcess.FreeLoopbackPort()).ToList();
        var seeds = ports.Select(ControllerProcess.AddressOf).ToList();
        return ports.Select((port, i) => new ControllerNode(i, port, seeds, connectionString, settings, ControllerProcess.FreeLoopbackPort())).ToList();
    }
}

/// <summary>
/// One controller node as its own process: <c>dotnet blip-controller.dll</c>, configured only through
/// <c>Blip__*</c> environment variables that carry no secret (the PAT reaches it through the Secret),
/// its stdout and stderr appended to its log file.
/// </summary>
public sealed class ControllerProcess : IAsyncDisposable
{
    public const string ExecutableName = "blip-controller.dll";

    // The first node logs its own JOINING and Up; a later node logs the welcome from the cluster it joined.
    private static readonly string[] JoinedMarkers = ["is JOINING", "to [Up]", "Welcome from"];

    private readonly Process _process;

    private readonly long _logStart;

    private readonly Task _exitPublished;

    private ControllerProcess(Process process, ControllerNode node, string logPath, long logStart, SandboxWorld world)
    {
        _process = process;
        Node = node;
        LogPath = logPath;
        _logStart = logStart;
        // The node as kubectl sees it: pod blip-controller-N, Running now, Succeeded or Failed when the process ends.
        var pid = process.Id;
        world.Kube.ControllerPods.Started(world.Namespace, node.Index, pid, logPath, logStart);
        _exitPublished = process.WaitForExitAsync().ContinueWith(
            _ => world.Kube.ControllerPods.Exited(world.Namespace, node.Index, pid, process.ExitCode), TaskScheduler.Default);
    }

    public ControllerNode Node { get; }
    public int Index => Node.Index;
    public int Pid => _process.Id;
    public string LogPath { get; }

    /// <summary>Its cluster address, <c>akka.tcp://blip@127.0.0.1:PORT</c>.</summary>
    public string Address => Node.Address;

    public string ManagementUrl => Node.ManagementUrl;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static string AddressOf(int port) => $"akka.tcp://blip@127.0.0.1:{port}";

    /// <summary>Where blip-controller.dll sits: next to this program (the sandbox project references the host).</summary>
    public static string? FindExecutable()
    {
        var path = Path.Combine(AppContext.BaseDirectory, ExecutableName);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Starts the node (again: a restarted node appends to the same log and keeps its data dir).</summary>
    public static ControllerProcess Start(ControllerNode node, string controllerDll, string stateDir, SandboxWorld world)
    {
        var index = node.Index;
        var port = node.Port;
        var logPath = Path.Combine(stateDir, $"controller-{index}.log");
        var dataDir = Path.Combine(stateDir, $"controller-{index}");
        Directory.CreateDirectory(dataDir);
        var logStart = File.Exists(logPath) ? new FileInfo(logPath).Length : 0;

        // exec keeps the pid: the shell only sets up the redirections, then becomes dotnet.
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        foreach (var a in new[] { "-c", "exec \"$0\" \"$1\" </dev/null >>\"$2\" 2>&1", DotnetHost(), controllerDll, logPath })
        {
            psi.ArgumentList.Add(a);
        }

        // Inherited Blip settings would make the nodes differ from what the sandbox says it started.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("Blip__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Blip:", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            psi.Environment.Remove(key);
        }

        var env = new Dictionary<string, string>
        {
            ["Blip__Kubeconfig"] = world.ControllerKubeconfig,
            ["Blip__GitHubApiUrl"] = world.GitHub.Url.ToString(),
            ["Blip__Namespace"] = world.Namespace,
            ["Blip__Pool"] = world.Options.PoolName,
            ["Blip__SshPort"] = world.Options.SshPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Blip__DataDir"] = dataDir,
            ["Blip__Store"] = node.ConnectionString is null ? "sqlite" : "postgres",
            ["Blip__ClusterHostname"] = "127.0.0.1",
            ["Blip__ClusterPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Blip__NodeName"] = $"sandbox-node-{index}",
            ["Blip__SeedNodes"] = string.Join(',', node.SeedNodes),
            ["Blip__ManagementUrl"] = node.ManagementUrl,
            ["Blip__PollInterval"] = "00:00:01",
            // Demo pace: a runner whose job went to another runner is noticed and removed in seconds, not minutes.
            ["Blip__RunnerCheckInterval"] = "00:00:02",
            ["Blip__IdleRunnerGrace"] = "00:00:15",
            ["DOTNET_NOLOGO"] = "1",
        };
        // The connection string may hold a password: it goes to the controller's environment, never to a command line or log.
        if (node.ConnectionString is not null)
        {
            env["Blip__ConnectionString"] = node.ConnectionString;
        }

        foreach (var (key, value) in node.Settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        foreach (var (key, value) in env)
        {
            psi.Environment[key] = value;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"controller {index}: could not start {controllerDll}");
        return new ControllerProcess(process, node, logPath, logStart, world);
    }

    /// <summary>Waits until the log says the node joined its cluster; throws with the log's tail when it
    /// exits first or the deadline passes.</summary>
    public async Task WaitUntilJoinedAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var log = ReadLog();
            if (JoinedMarkers.Any(m => log.Contains(m, StringComparison.Ordinal)))
            {
                return;
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"controller {Index} (pid {Pid}) exited with code {_process.ExitCode} before joining; {LogPath} ends with:{Environment.NewLine}{Tail(log)}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"controller {Index} (pid {Pid}) did not join its cluster within {timeout.TotalSeconds:F0} s; see {LogPath}");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>SIGTERM (a graceful leave), up to <paramref name="grace"/> to exit, then SIGKILL to the whole tree.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            try
            {
                await ProcessRunner.RunAsync("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
                // The kill below covers it.
            }

            using var wait = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        try
        {
            // Even after a clean exit: anything it started must not outlive the sandbox.
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        await _exitPublished;
        _process.Dispose();
    }

    /// <summary>What this run of the node has logged so far (not earlier runs with the same log file).</summary>
    public string ReadLog()
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(_logStart, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    private static string Tail(string log) =>
        string.Join(Environment.NewLine, log.Split('\n').TakeLast(15).Select(l => "  " + l.TrimEnd('\r')));

    /// <summary>The dotnet host running this program, so the controller runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")))
        {
            return Path.Combine(root, "dotnet");
        }

        return "dotnet";
    }

    /// <summary>Sends a signal (KILL, STOP, CONT, TERM) to the node's process.</summary>
    public async Task SignalAsync(string signal)
    {
        var result = await ProcessRunner.RunAsync("kill", [$"-{signal}", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        if (result.ExitCode != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill -{signal} {Pid} failed: {result.StandardError.Trim()}");
        }
    }

    /// <summary>Waits for the process to exit; false when <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal static int FreeLoopbackPort() => Blip.Sandbox.Shared.LoopbackPorts.Free();
}
