using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Blip.Actors.IntegrationTests.Sandbox.Executable;

/// <summary>
/// The built <c>blip-sandbox.dll</c> (copied next to this test assembly) run as a real process with its
/// own state dir under /tmp; its output is captured. Disposing kills it if it is still running and
/// removes the state dir.
/// </summary>
public sealed class SandboxProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private SandboxProcess(Process process, string stateDir)
    {
        _process = process;
        StateDir = stateDir;
    }

    public string StateDir { get; }

    public int Pid => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static SandboxProcess Start(params string[] args)
    {
        var stateDir = Path.Combine(Path.GetTempPath(), "blip-sandbox-exe-" + Guid.NewGuid().ToString("N")[..10]);
        var sandboxDll = Path.Combine(AppContext.BaseDirectory, "blip-sandbox.dll");
        Assert.True(File.Exists(sandboxDll), $"{sandboxDll} is missing: the test project references Blip.Sandbox, which copies it");

        var psi = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in new[] { sandboxDll, "--state-dir", stateDir }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = psi };
        var sandbox = new SandboxProcess(process, stateDir);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (sandbox._stdout)
                {
                    sandbox._stdout.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (sandbox._stderr)
                {
                    sandbox._stderr.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sandbox;
    }

    /// <summary>Waits for the exit and returns the exit code; fails with the output when it takes too long.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"blip-sandbox did not exit within {timeout.TotalSeconds:F0} s; stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // WaitForExit without a timeout drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until the sandbox wrote <c>sandbox.json</c> (it is up) and returns its path; fails at once when the
    /// sandbox exits first, and after <paramref name="timeout"/> otherwise, each time with the output so far.</summary>
    public async Task<string> WaitForManifestAsync(TimeSpan timeout)
    {
        var path = Path.Combine(StateDir, "sandbox.json");
        var waited = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drains the redirected output
                throw new InvalidOperationException($"blip-sandbox exited with {_process.ExitCode} before writing sandbox.json; stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"blip-sandbox wrote no sandbox.json within {timeout.TotalSeconds:F0} s; stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            await Task.Delay(200);
        }

        return path;
    }

    /// <summary>Sends SIGTERM, as a service manager or <c>kill</c> would.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Pids of processes whose command line or environment names a path inside the state dir:
    /// sshd (its config), fake runners (BLIP_VM_DIR), controllers (Blip__DataDir, Blip__Kubeconfig).</summary>
    public IReadOnlyList<string> ProcessesInStateDir() => ProcessesIn(StateDir);

    /// <summary>Pids (with their command lines) of processes naming a path inside <paramref name="stateDir"/>.</summary>
    public static IReadOnlyList<string> ProcessesIn(string stateDir)
    {
        var prefix = stateDir + "/";
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            var cmdline = ReadProc(Path.Combine(dir, "cmdline"));
            if (cmdline.Contains(prefix, StringComparison.Ordinal) || ReadProc(Path.Combine(dir, "environ")).Contains(prefix, StringComparison.Ordinal))
            {
                found.Add($"{pid}: {cmdline.Replace('\0', ' ').Trim()}");
            }
        }

        return found;
    }

    public async ValueTask DisposeAsync()
    {
        // A test that failed half way: let the sandbox stop its world itself, then make sure.
        if (!_process.HasExited)
        {
            await TerminateAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        // BLIP_KEEP_SANDBOX_DIR=1 keeps the state dir (controller logs, the SQLite journal) to read after a failure.
        if (Environment.GetEnvironmentVariable("BLIP_KEEP_SANDBOX_DIR") == "1")
        {
            Console.Error.WriteLine($"kept {StateDir} (BLIP_KEEP_SANDBOX_DIR=1)");
            return;
        }

        RemoveStateDir(StateDir);
    }

    /// <summary>Kills what a sandbox left running in <paramref name="stateDir"/>, then removes it.</summary>
    public static void RemoveStateDir(string stateDir)
    {
        foreach (var leftover in ProcessesIn(stateDir))
        {
            try
            {
                using var p = Process.GetProcessById(int.Parse(leftover[..leftover.IndexOf(':', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
                p.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }

        try
        {
            if (Directory.Exists(stateDir))
            {
                Directory.Delete(stateDir, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover under /tmp does no harm; the assertions above are what matter.
        }
    }

    private static string ReadProc(string path)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk) ? fromSdk : "dotnet";
    }
}
