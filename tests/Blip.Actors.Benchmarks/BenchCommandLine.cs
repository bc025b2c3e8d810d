namespace Blip.Actors.Benchmarks;

/// <summary>What one invocation runs: <c>--out DIR [--scenario NAME|all] [--quick]</c>.</summary>
public sealed record BenchCommand(string OutDir, IReadOnlyList<string> Scenarios, bool Quick)
{
    public static readonly IReadOnlyList<string> AllScenarios = ["pickup", "burst", "idle-cost", "per-job-cost", "scale"];

    public const string Usage = """
        usage: dotnet run -c Release --project tests/Blip.Actors.Benchmarks -- --out DIR [--scenario NAME|all] [--quick]
          --out DIR        where results.json, report.md, the charts and the controller logs go (created)
          --scenario NAME  one of pickup, burst, idle-cost, per-job-cost, scale, or all (default); repeatable
          --quick          small sizes (about 2 minutes): a smoke test that fails only on duplicates or leaked VMs
        Each scenario runs on a fresh sandbox world and a fresh controller process for each profile:
          default   the controller's own defaults
          upstream  the Go controller's behaviour: 10 s poll of queued runs, no conditional requests, a runner check every 15 s
          webhooks  (pickup only) the defaults plus workflow_job webhooks from the GitHub emulator to the controller
        """;

    public static BenchCommand? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        string? outDir = null;
        var scenarios = new List<string>();
        var quick = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Count:
                    outDir = args[++i];
                    break;
                case "--scenario" when i + 1 < args.Count:
                    var name = args[++i];
                    if (name == "all")
                    {
                        scenarios.AddRange(AllScenarios);
                    }
                    else if (AllScenarios.Contains(name))
                    {
                        scenarios.Add(name);
                    }
                    else
                    {
                        error = $"unknown scenario '{name}' (one of {string.Join(", ", AllScenarios)}, all)";
                        return null;
                    }

                    break;
                case "--quick":
                    quick = true;
                    break;
                default:
                    error = $"unknown or incomplete option '{args[i]}'";
                    return null;
            }
        }

        if (outDir is null)
        {
            error = "--out DIR is required";
            return null;
        }

        return new BenchCommand(outDir, scenarios.Count == 0 ? AllScenarios : scenarios.Distinct().ToList(), quick);
    }
}
