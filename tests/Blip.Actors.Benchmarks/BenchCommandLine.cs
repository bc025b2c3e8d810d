using System.CommandLine;
using Blip.Ctl;

namespace Blip.Actors.Benchmarks;

/// <summary>What one invocation runs: <c>--out DIR [--scenario NAME|all] [--quick]</c>.</summary>
public sealed record BenchCommand(string OutDir, IReadOnlyList<string> Scenarios, bool Quick)
{
    public static readonly IReadOnlyList<string> AllScenarios = ["pickup", "burst", "capacity", "idle-cost", "per-job-cost", "scale", "soak"];

    private const string Description = """
        Blip.Actors benchmarks: dotnet run -c Release --project tests/Blip.Actors.Benchmarks -- --out DIR [--scenario NAME|all] [--quick]
        Each scenario runs on a fresh sandbox world and a fresh controller process for each profile:
          default   the controller's own defaults
          upstream  the Go controller's behaviour: 10 s poll of queued runs, no conditional requests, a runner check every 15 s
          webhooks  (pickup only) the defaults plus workflow_job webhooks from the GitHub emulator to the controller
        Exit codes: 0 every scenario ran and the invariants hold; 1 a duplicate, a leaked VM or a failed scenario; 2 usage.
        """;

    /// <summary>The command, or null with <paramref name="text"/> to print (<c>--help</c>) or <paramref name="error"/>
    /// naming the bad option.</summary>
    public static BenchCommand? Parse(IReadOnlyList<string> args, out string? text, out string? error)
    {
        var outDir = new Option<string>("--out")
        {
            Description = "where results.json, report.md, the charts and the controller logs go (created)",
            HelpName = "DIR",
            Required = true,
        };
        var scenarios = new Option<string[]>("--scenario")
        {
            Description = $"one of {string.Join(", ", AllScenarios)}, or all (default); repeatable",
            HelpName = "NAME",
        };
        scenarios.AcceptOnlyFromAmong([.. AllScenarios, "all"]);
        var quick = new Option<bool>("--quick")
        {
            Description = "small sizes (about 2 minutes): a smoke test that fails only on duplicates or leaked VMs",
        };

        var result = new RootCommand(Description) { outDir, scenarios, quick }.Parse(args);
        text = ParseOutcome.LibraryText(result);
        error = text is null ? ParseOutcome.FirstError(result) : null;
        if (text is not null || error is not null)
        {
            return null;
        }

        var named = result.GetValue(scenarios) ?? [];
        var chosen = named.SelectMany(n => n == "all" ? AllScenarios : [n]).Distinct().ToList();
        return new BenchCommand(result.GetValue(outDir)!, chosen.Count == 0 ? AllScenarios : chosen, result.GetValue(quick));
    }
}
