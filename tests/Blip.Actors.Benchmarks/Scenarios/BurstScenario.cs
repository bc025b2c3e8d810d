using System.Globalization;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Shared;

namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>
/// Many short jobs over many repos queued at once onto fewer VMs: makespan, throughput, pickup percentiles,
/// how fast free VMs are turned into running runners, controller CPU per job, and the invariants.
/// </summary>
public sealed class BurstScenario : Scenario
{
    public override string Name => "burst";

    public override string Description =>
        "jobs of 1–2 s over several repos queued at once onto fewer VMs (each VM runs one job, then the pool replaces it)";

    private static (int Jobs, int Repos, int Vms) Size(bool quick) => quick ? (12, 3, 4) : (200, 20, 20);

    public override Dictionary<string, string> Sizes(bool quick)
    {
        var (jobs, repos, vms) = Size(quick);
        return new()
        {
            ["jobs"] = jobs.ToString(CultureInfo.InvariantCulture),
            ["repos"] = repos.ToString(CultureInfo.InvariantCulture),
            ["vms"] = vms.ToString(CultureInfo.InvariantCulture),
            ["job_duration_s"] = "1–2",
        };
    }

    public override async Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct)
    {
        var (jobs, repoCount, vms) = Size(context.Quick);
        var repos = Enumerable.Range(0, repoCount).Select(i => $"bench-org/burst-{i:D2}").ToList();
        await using var world = await BenchWorld.StartAsync(context.StateRoot, Name, profile, vms, repos, ct);
        context.Say(Name, profile, $"controller pid {world.Controller.Pid} joined; {vms} VMs ready; waiting until all {repoCount} repos were polled");
        await Deadline.UntilAsync(() => world.GitHub.GetStatsAsync(ct), s => s.ByRepo.Count >= repoCount, TimeSpan.FromSeconds(90), "a first poll of every repo", ct);

        var cpuBefore = world.Meter.CpuSeconds();
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; i < jobs; i++)
        {
            await world.GitHub.QueueJobAsync(repos[i % repoCount], BenchWorld.RunnerLabels, durationSeconds: 1 + i % 2, ct);
        }

        context.Say(Name, profile, $"queued {jobs} jobs over {repoCount} repos in {(DateTimeOffset.UtcNow - started).TotalSeconds:F1} s");
        var timeline = new List<TimelinePoint>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(context.Quick ? 90 : 400);
        var lastSaid = DateTime.MinValue;
        IReadOnlyList<SandboxJob> snapshot;
        while (true)
        {
            snapshot = await world.GitHub.ListJobsAsync(ct: ct);
            var point = new TimelinePoint(
                (DateTimeOffset.UtcNow - started).TotalSeconds,
                snapshot.Count(j => j.Status == "queued"),
                snapshot.Count(j => j.Status == "in_progress"),
                snapshot.Count(j => j.Status == "completed"));
            timeline.Add(point);
            if (DateTime.UtcNow - lastSaid > TimeSpan.FromSeconds(5))
            {
                context.Say(Name, profile, $"t={point.Seconds:F0} s: {point.Queued} queued, {point.Running} running, {point.Completed}/{jobs} completed");
                lastSaid = DateTime.UtcNow;
            }

            if (point.Completed == jobs)
            {
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"burst: {point.Completed} of {jobs} jobs completed in the time allowed");
            }

            await Task.Delay(500, ct);
        }

        var cpuAtCompletion = world.Meter.CpuSeconds();
        await RecordInvariantsAsync(context, world, Name, result, ct);

        var firstQueued = snapshot.Min(j => j.QueuedAt);
        var lastCompleted = snapshot.Max(j => j.CompletedAt!.Value);
        var makespan = (lastCompleted - firstQueued).TotalSeconds;
        var starts = snapshot.Select(j => j.StartedAt!.Value).Order().ToList();
        var wave = Math.Min(jobs, vms);
        result.Figures[Figure.Jobs] = jobs;
        result.Figures["makespan_s"] = makespan;
        result.Figures["jobs_per_s"] = jobs / makespan;
        // While VMs are free: how fast runners are started, from the first to the wave-th start.
        result.Figures["first_wave_runners_started_per_s"] = (wave - 1) / Math.Max((starts[wave - 1] - starts[0]).TotalSeconds, 0.001);
        result.Figures["first_wave_all_started_after_queue_s"] = (starts[wave - 1] - firstQueued).TotalSeconds;
        result.Figures["controller_cpu_s"] = cpuAtCompletion - cpuBefore;
        result.Figures["controller_cpu_ms_per_job"] = (cpuAtCompletion - cpuBefore) * 1000 / jobs;
        Stats.AddPickup(result, snapshot.Select(j => (j.StartedAt!.Value - j.QueuedAt).TotalSeconds).ToList());
        result.Timeline = timeline;
        RecordController(world, result);
        result.ControllerLog = world.KeepLog(context.OutDir, Name);
        context.Say(Name, profile, $"makespan {makespan:F1} s, {jobs / makespan:F2} jobs/s, pickup p50 {result.Figures[Figure.P50]:F2} s");
    }
}
