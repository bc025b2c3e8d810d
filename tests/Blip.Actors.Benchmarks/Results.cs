namespace Blip.Actors.Benchmarks;

/// <summary>Everything one invocation measured; serialized as <c>results.json</c>.</summary>
public sealed class BenchResults
{
    public required MachineInfo Machine { get; init; }
    public required bool Quick { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; set; }
    public Dictionary<string, string> Profiles { get; } = [];
    public List<ScenarioResult> Scenarios { get; } = [];
    public int Duplicates => Scenarios.Sum(s => s.Profiles.Values.Sum(p => (int)p.Figures.GetValueOrDefault(Figure.Duplicates)));
    public int LeakedVms => Scenarios.Sum(s => s.Profiles.Values.Sum(p => (int)p.Figures.GetValueOrDefault(Figure.LeakedVms)));
    public List<string> Errors { get; } = [];
    public List<TargetResult> Targets { get; } = [];
}

public sealed class ScenarioResult
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public Dictionary<string, string> Sizes { get; init; } = [];
    public Dictionary<string, ProfileResult> Profiles { get; } = [];
}

public sealed class ProfileResult
{
    public SortedDictionary<string, double> Figures { get; } = new(StringComparer.Ordinal);
    public List<double>? PickupSeconds { get; set; }
    public List<TimelinePoint>? Timeline { get; set; }
    public Dictionary<string, int>? GitHubCountedByEndpoint { get; set; }
    public List<string> Notes { get; } = [];
    public string? ControllerLog { get; set; }
}

/// <summary>Counts of the burst's jobs at one moment (seconds since the first job was queued).</summary>
public sealed record TimelinePoint(double Seconds, int Queued, int Running, int Completed);

public sealed record TargetResult(string Target, string Measured, bool? Met, string Note);

public sealed record MachineInfo(int Cores, string Cpu, double MemoryGiB, string Os, string Runtime, string GitCommit, double LoadAverage1mAtStart);

/// <summary>Names of the figures, as they appear in results.json and report.md.</summary>
public static class Figure
{
    public const string Duplicates = "duplicates";
    public const string LeakedVms = "leaked_vms";
    public const string RetakenJobs = "jobs_taken_up_twice";
    public const string Jobs = "jobs";
    public const string P50 = "pickup_p50_s";
    public const string P90 = "pickup_p90_s";
    public const string P99 = "pickup_p99_s";
    public const string Max = "pickup_max_s";
    public const string Mean = "pickup_mean_s";
}
