using System.Globalization;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Shared;

namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>
/// Memory per tracked job: many matching jobs queued on a pool with no VMs, so each becomes a live job actor
/// (claiming, waiting for a VM) and stays one. RSS before and after they are all tracked gives memory per
/// live job actor. In full mode the jobs are then cancelled: each gives up (no sighting for
/// QueuedSightingTimeout), becomes a tombstone and passivates after 30 s idle; the RSS after that is an upper
/// bound for what a tombstoned job keeps (the GC need not hand freed memory back to the OS).
/// </summary>
public sealed class ScaleScenario : Scenario
{
    private const string Repo = "bench-org/scale";
    private const int JobsPerRun = 100;
    private const string TrackedMarker = "; claiming a VM";

    // Longer than two upstream polls, so a job still queued is never given up between sightings.
    private static readonly TimeSpan SightingTimeout = TimeSpan.FromSeconds(25);

    // Before each RSS reading: a pause for the runtime to settle (JIT, GC, the last replies) once the state it measures
    // was reached. Part of the measurement, not a wait for a state: each reading follows a wait for its state.
    private static readonly TimeSpan RssSettle = TimeSpan.FromSeconds(3);

    public override string Name => "scale";

    public override string Description =>
        "matching jobs queued on a pool with 0 VMs (each a live job actor waiting for a VM): controller RSS per tracked job; full mode then cancels them and measures RSS after they became tombstones and passivated";

    private static int Jobs(bool quick) => quick ? 40 : 1000;

    public override Dictionary<string, string> Sizes(bool quick) => new()
    {
        ["jobs"] = Jobs(quick).ToString(CultureInfo.InvariantCulture),
        ["jobs_per_run"] = JobsPerRun.ToString(CultureInfo.InvariantCulture),
        ["vms"] = "0",
        ["Blip__QueuedSightingTimeout"] = SightingTimeout.ToString(),
    };

    public override async Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct)
    {
        var jobs = Jobs(context.Quick);
        var scaled = profile.With(new Dictionary<string, string> { ["Blip__QueuedSightingTimeout"] = SightingTimeout.ToString() });
        await using var world = await BenchWorld.StartAsync(context.StateRoot, Name, scaled, vms: 0, [Repo], ct);
        context.Say(Name, profile, $"controller pid {world.Controller.Pid} joined; waiting for its first poll");
        await Deadline.UntilAsync(() => world.GitHub.GetStatsAsync(ct), s => s.Total >= profile.GetsPerIdlePoll, TimeSpan.FromSeconds(60), "the first poll", ct);
        await Task.Delay(RssSettle, ct);
        var rssIdle = world.Meter.RssMiB();

        // A first batch warms the code paths (JIT, journal, sharding) so the slope measures jobs, not start-up
        // (not in --quick: one batch, one poll).
        var warmJobs = context.Quick ? 0 : Math.Max(20, jobs / 10);
        var ids = new List<long>(jobs);
        await QueueAndTrackAsync(warmJobs);
        await Task.Delay(RssSettle, ct);
        var rssBaseline = world.Meter.RssMiB();
        var cpuBefore = world.Meter.CpuSeconds();
        var queueing = DateTimeOffset.UtcNow;
        await QueueAndTrackAsync(jobs - warmJobs);
        var trackedAfter = (DateTimeOffset.UtcNow - queueing).TotalSeconds;
        await Task.Delay(RssSettle, ct);
        var rssTracked = world.Meter.RssMiB();
        var cpuTracked = world.Meter.CpuSeconds();
        var kibPerJob = (rssTracked - rssBaseline) * 1024 / (jobs - warmJobs);

        async Task QueueAndTrackAsync(int count)
        {
            var target = ids.Count + count;
            for (var run = 0; ids.Count < target; run++)
            {
                var inRun = Math.Min(JobsPerRun, target - ids.Count);
                var first = await world.GitHub.QueueJobAsync(new QueueJobRequest(Repo, BenchWorld.RunnerLabels, 60), ct);
                ids.Add(first.JobId);
                var rest = Enumerable.Range(1, inRun - 1)
                    .Select(_ => world.GitHub.QueueJobAsync(new QueueJobRequest(Repo, BenchWorld.RunnerLabels, 60, RunId: first.RunId), ct));
                ids.AddRange((await Task.WhenAll(rest)).Select(q => q.JobId));
            }

            context.Say(Name, profile, $"{ids.Count} jobs queued; waiting until the controller tracks them all");
            var lastSaid = DateTime.MinValue;
            await Deadline.UntilAsync(() => Task.FromResult(world.CountLogLines(TrackedMarker)), n =>
            {
                if (DateTime.UtcNow - lastSaid > TimeSpan.FromSeconds(5))
                {
                    context.Say(Name, profile, $"{n}/{ids.Count} jobs tracked, RSS {world.Meter.RssMiB():F0} MiB");
                    lastSaid = DateTime.UtcNow;
                }

                return n >= ids.Count;
            }, TimeSpan.FromSeconds(context.Quick ? 60 : 300), "every job to be tracked", ct, TimeSpan.FromSeconds(1));
        }

        result.Figures["tracked_jobs"] = jobs;
        result.Figures["seconds_until_all_tracked"] = trackedAfter;
        result.Figures["warm_up_jobs"] = warmJobs;
        result.Figures["rss_idle_mib"] = rssIdle;
        result.Figures["rss_baseline_mib"] = rssBaseline;
        result.Figures["rss_tracked_mib"] = rssTracked;
        result.Figures["kib_per_tracked_job"] = kibPerJob;
        result.Figures["rss_at_10k_tracked_mib_extrapolated"] = rssBaseline + kibPerJob * (10_000 - warmJobs) / 1024;
        result.Figures["controller_cpu_s_to_track"] = cpuTracked - cpuBefore;
        context.Say(Name, profile, $"{jobs} tracked: RSS {rssBaseline:F0} (after {warmJobs}) → {rssTracked:F0} MiB, {kibPerJob:F1} KiB per tracked job");

        if (!context.Quick)
        {
            context.Say(Name, profile, $"cancelling the {jobs} jobs: each gives up after {SightingTimeout.TotalSeconds:F0} s unseen, then passivates 30 s later");
            using var gate = new SemaphoreSlim(8);
            await Task.WhenAll(ids.Select(async id =>
            {
                await gate.WaitAsync(ct);
                try
                {
                    await world.GitHub.CancelJobAsync(id, ct);
                }
                finally
                {
                    gate.Release();
                }
            }));
            // Every job gave up and passivated: no job entity left in the shard region.
            await Deadline.UntilAsync(() => world.MetricAsync("blip_shard_entities", ct), n => n == 0,
                SightingTimeout + TimeSpan.FromSeconds(30) + TimeSpan.FromMinutes(5), "every cancelled job tombstoned and passivated", ct, TimeSpan.FromSeconds(2));
            await Task.Delay(RssSettle, ct);
            var rssTombstoned = world.Meter.RssMiB();
            result.Figures["rss_after_tombstone_and_passivation_mib"] = rssTombstoned;
            result.Figures["kib_per_tombstoned_job_upper_bound"] = (rssTombstoned - rssIdle) * 1024 / jobs;
            context.Say(Name, profile, $"after passivation: RSS {rssTombstoned:F0} MiB");
        }

        RecordController(world, result);
        result.ControllerLog = world.KeepLog(context.OutDir, Name);
    }
}
