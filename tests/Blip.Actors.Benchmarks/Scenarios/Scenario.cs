namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>Where a run writes and how big it is; <see cref="Say"/> is the progress output.</summary>
public sealed record BenchContext(string OutDir, string StateRoot, bool Quick, TextWriter Progress)
{
    public void Say(string scenario, Profile profile, string line)
    {
        Progress.WriteLine($"{DateTime.UtcNow:HH:mm:ss} [{scenario}/{profile.Name}] {line}");
        Progress.Flush();
    }
}

/// <summary>One measured situation, run once per profile on a fresh world and controller.</summary>
public abstract class Scenario
{
    public abstract string Name { get; }
    public abstract string Description { get; }

    /// <summary>The sizes of this run, for the report.</summary>
    public abstract Dictionary<string, string> Sizes(bool quick);

    /// <summary>The profiles it runs for, in report order: the first is the one the targets judge.</summary>
    public virtual IReadOnlyList<Profile> Profiles => Profile.All;

    public abstract Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct);

    public static Scenario Create(string name) => name switch
    {
        "pickup" => new PickupScenario(),
        "burst" => new BurstScenario(),
        "capacity" => new CapacityScenario(),
        "idle-cost" => new IdleCostScenario(),
        "per-job-cost" => new PerJobCostScenario(),
        "scale" => new ScaleScenario(),
        "soak" => new SoakScenario(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown scenario"),
    };

    protected static async Task RecordInvariantsAsync(BenchContext context, BenchWorld world, string scenario, ProfileResult result, CancellationToken ct)
    {
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        var outcome = await Invariants.CheckAsync(world.World, world.Profile.IdleRunnerHorizon + TimeSpan.FromSeconds(context.Quick ? 15 : 30), ct);
        result.Figures["vms_released_after_last_job_s"] = waiting.Elapsed.TotalSeconds;
        result.Figures[Figure.Duplicates] = outcome.Duplicates;
        result.Figures[Figure.LeakedVms] = outcome.LeakedVms;
        result.Figures[Figure.RetakenJobs] = outcome.RetakenJobs;
        result.Figures["overlapping_claims"] = outcome.OverlappingClaims;
        result.Notes.AddRange(outcome.Details);
        // The VM writes behind those figures, for a second look (annotations only: no secret is ever in them).
        var audit = Path.Combine(context.OutDir, "audit");
        Directory.CreateDirectory(audit);
        await File.WriteAllTextAsync(Path.Combine(audit, $"{scenario}-{world.Profile.Name}.json"),
            new System.Text.Json.Nodes.JsonArray(world.World.VmAudit().Select(a => (System.Text.Json.Nodes.JsonNode)a.ToJson()).ToArray()).ToJsonString(), ct);
        context.Say(scenario, world.Profile, $"duplicates {outcome.Duplicates}, leaked VMs {outcome.LeakedVms}, jobs taken up twice {outcome.RetakenJobs}, sessions on two VMs at once {outcome.OverlappingClaims}");
    }

    protected static void RecordController(BenchWorld world, ProfileResult result)
    {
        result.Figures["controller_rss_mib_end"] = world.Meter.RssMiB();
        result.Figures["controller_peak_rss_mib"] = world.Meter.PeakRssMiB();
    }
}
