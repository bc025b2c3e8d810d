using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Sandbox.Executable;

/// <summary>The demo's live table as a newcomer sees it in a terminal (80 columns, narrower than the table's text).</summary>
public sealed partial class SandboxLiveViewTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task On_a_terminal_the_jobs_table_redraws_in_place_instead_of_scrolling()
    {
        // No controller: the four jobs stay queued, and the table is redrawn every second until Ctrl-C.
        await using var terminal = await SandboxInTerminal.StartAsync("--no-controller", "--vms", "1", "--jobs", "4");
        var manifestPath = Path.Combine(terminal.StateDir, "sandbox.json");
        await Deadline.UntilAsync(() => File.Exists(manifestPath), Patience, $"sandbox.json written; terminal: {terminal.Raw}");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        using var gitHub = new GitHubSandboxClient(new Uri(manifest["githubUrl"]!.GetValue<string>()), manifest["githubAdminToken"]!.GetValue<string>());
        var jobs = await Deadline.UntilAsync(() => gitHub.ListJobsAsync(), j => j.Count == 4, Patience, "the four demo jobs queued");
        var ids = jobs.Select(j => j.JobId.ToString(CultureInfo.InvariantCulture)).ToList();

        // Three redraws after the table first showed all four jobs.
        await Deadline.UntilAsync(() => RedrawsAfter(terminal.Raw, ids) >= 3, Patience, $"three redraws of the full table; terminal: {terminal.Raw}");
        await terminal.PressCtrlCAsync();
        var exit = await Deadline.UntilAsync(terminal.ExitCodeAsync, code => code is not null, Patience, "the sandbox exited after Ctrl-C");
        var screen = await terminal.ScreenAsync();
        Assert.True(exit == 0, $"exit {exit}; screen:\n{screen}");

        // Scrolling back, the table is there once: its header once, each job on one row.
        var lines = screen.Split('\n');
        Assert.True(lines.Count(l => Header().IsMatch(l)) == 1, $"one table header on the screen and in the scrollback:\n{screen}");
        Assert.All(ids, id => Assert.True(lines.Count(l => l.Contains(id, StringComparison.Ordinal)) == 1, $"job {id} on one line:\n{screen}"));
        // A line said while the table is shown goes above it, whole, with nothing of the table left beside it.
        Assert.Contains(lines, l => l.TrimEnd() == "Ctrl-C: stopping…");
        Assert.Contains("demo interrupted", screen);
    }

    [Theory]
    [InlineData("0:", null)]
    [InlineData("1::", null)] // dead, how not known yet (the loaded CI run read "1 " here and failed on the missing field)
    [InlineData("1:0:", 0)]
    [InlineData("1:3:", 3)]
    [InlineData("1::2", 130)]
    public void The_terminals_word_on_how_the_sandbox_ended_is_read_as_a_shell_would(string tmux, int? exit) =>
        Assert.Equal(exit, SandboxInTerminal.ParseExit(tmux));

    /// <summary>How often the cursor moved up to redraw after every job id had been written.</summary>
    private static int RedrawsAfter(string raw, IReadOnlyList<string> ids)
    {
        var shown = ids.Select(id => raw.IndexOf(id, StringComparison.Ordinal)).ToList();
        return shown.Any(i => i < 0) ? 0 : CursorUp().Count(raw[shown.Max()..]);
    }

    [GeneratedRegex(@"\x1b\[\d*A")]
    private static partial Regex CursorUp();

    [GeneratedRegex(@"JOB\s+REPO\s+LABELS")]
    private static partial Regex Header();
}
