using System.Diagnostics;
using System.Globalization;

namespace Blip.Actors.IntegrationTests.Sandbox.Executable;

/// <summary>
/// The built <c>blip-sandbox.dll</c> run in a real terminal, as a newcomer's shell runs it: a detached tmux session
/// of <see cref="Columns"/>×<see cref="Rows"/> on a tmux server of its own. The bytes the sandbox writes are kept
/// (<c>pipe-pane</c>), and the screen with its scrollback is read as a person scrolling back would see it.
/// Disposing ends the tmux server, whatever the sandbox left running in its state dir, and both directories.
/// </summary>
public sealed class SandboxInTerminal : IAsyncDisposable
{
    public const int Columns = 80;
    public const int Rows = 50;
    private const string Session = "sandbox";

    private readonly string _server = "blip-" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _dir;

    private SandboxInTerminal()
    {
        _dir = Path.Combine(Path.GetTempPath(), _server);
        StateDir = Path.Combine(Path.GetTempPath(), "blip-sandbox-tty-" + Guid.NewGuid().ToString("N")[..10]);
    }

    public string StateDir { get; }

    /// <summary>Everything the sandbox wrote to the terminal so far, escape sequences included.</summary>
    public string Raw
    {
        get
        {
            var path = RawPath;
            return File.Exists(path) ? File.ReadAllText(path) : "";
        }
    }

    private string RawPath => Path.Combine(_dir, "terminal.raw");

    private string ExitPath => Path.Combine(_dir, "exit");

    public static async Task<SandboxInTerminal> StartAsync(params string[] args)
    {
        var sandboxDll = Path.Combine(AppContext.BaseDirectory, "blip-sandbox.dll");
        Assert.True(File.Exists(sandboxDll), $"{sandboxDll} is missing: the test project references Blip.Sandbox, which copies it");
        var terminal = new SandboxInTerminal();
        Directory.CreateDirectory(terminal._dir);
        // The session's shell waits for a key, so that the pipe below is in place before the sandbox writes anything, and
        // writes down how the sandbox ended: tmux 3.3 on this machine marks the pane dead without an exit status when the
        // sandbox exits soon after a Ctrl-C (pane_dead 1, status and signal empty, for good), at every commit tried.
        string[] command = ["/bin/bash", "-c", "read -r _ && \"$@\"; echo $? > \"$BLIP_TERMINAL_EXIT\"", "bash", SandboxProcess.DotnetHost(), sandboxDll, "--state-dir", terminal.StateDir, .. args];
        await terminal.TmuxAsync(["new-session", "-d", "-e", $"BLIP_TERMINAL_EXIT={terminal.ExitPath}", "-s", Session, "-x", Columns.ToString(CultureInfo.InvariantCulture), "-y", Rows.ToString(CultureInfo.InvariantCulture), .. command]);
        await terminal.TmuxAsync(["set-option", "-w", "-t", Session, "remain-on-exit", "on"]);
        await terminal.TmuxAsync(["pipe-pane", "-o", "-t", Session, $"cat >> '{terminal.RawPath}'"]);
        await terminal.TmuxAsync(["send-keys", "-t", Session, "Enter"]);
        return terminal;
    }

    /// <summary>Ctrl-C typed into the terminal.</summary>
    public Task PressCtrlCAsync() => TmuxAsync(["send-keys", "-t", Session, "C-c"]);

    /// <summary>The sandbox's exit code once it has exited (128 + the signal's number if a signal ended it, as a shell
    /// says), else null. tmux may show the pane dead a moment before it knows how it ended: null then too.</summary>
    public async Task<int?> ExitCodeAsync() =>
        File.Exists(ExitPath) && int.TryParse(await File.ReadAllTextAsync(ExitPath), CultureInfo.InvariantCulture, out var code)
            ? code
            : ParseExit(await TmuxAsync(["display-message", "-p", "-t", Session, "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}"]));

    /// <summary>tmux's <c>pane_dead:pane_dead_status:pane_dead_signal</c> as an exit code (see <see cref="ExitCodeAsync"/>).</summary>
    public static int? ParseExit(string state) => state.Trim().Split(':') switch
    {
        ["1", var status, _] when int.TryParse(status, CultureInfo.InvariantCulture, out var code) => code,
        ["1", _, var signal] when int.TryParse(signal, CultureInfo.InvariantCulture, out var number) => 128 + number,
        _ => null,
    };

    /// <summary>The scrollback and the screen, top to bottom, lines the terminal wrapped joined again.</summary>
    public Task<string> ScreenAsync() => TmuxAsync(["capture-pane", "-p", "-J", "-t", Session, "-S", "-", "-E", "-"]);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await TmuxAsync(["kill-server"]);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        SandboxProcess.RemoveStateDir(StateDir);
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> TmuxAsync(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-L", _server, "-f", "/dev/null" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        // A test run inside tmux must not talk to the tmux it runs in.
        psi.Environment.Remove("TMUX");
        Process tmux;
        try
        {
            tmux = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("tmux is needed to run the sandbox in a terminal: apt-get install -y tmux", e);
        }

        using (tmux)
        {
            var stdout = tmux.StandardOutput.ReadToEndAsync();
            var stderr = tmux.StandardError.ReadToEndAsync();
            using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await tmux.WaitForExitAsync(hang.Token);
            if (tmux.ExitCode != 0)
            {
                throw new InvalidOperationException($"tmux {string.Join(' ', psi.ArgumentList)} exited with {tmux.ExitCode}: {await stderr}");
            }

            return await stdout;
        }
    }
}
