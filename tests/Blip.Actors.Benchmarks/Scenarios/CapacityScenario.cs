using System.Globalization;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Shared;

namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>
/// How fast the controller turns sighted jobs into running runners when nothing else limits it: N jobs in one run of a
/// repo the controller does not poll yet, then the repo is added to the ConfigMap, so its first poll sees them all, onto
/// N ready VMs. The rate from the first runner start to the last measures the claim path, the inventory's offers, shard
/// allocation, generate-jitconfig and SSH, not how the polls are phased (which the burst's first wave measures).
/// </summary>
public sealed class CapacityScenario : Scenario
{
    private const string Repo = "bench-org/capacity";
    private const string Idle = "bench-org/capacity-idle";

    public override string Name => "capacity";

    public override string Description =>
        "jobs in one run of a repo added to the ConfigMap after they were queued (its first poll sees them all), onto as many ready VMs";

    private static int Size(bool quick) => quick ? 4 : 50;

    public override Dictionary<string, string> Sizes(bool quick) => new()
    {
        ["jobs"] = Size(quick).ToString(CultureInfo.InvariantCulture),
        ["vms"] = Size(quick).ToString(CultureInfo.InvariantCulture),
        ["job_duration_s"] = "1",
    };

    public override async Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct)
    {
        var jobs = Size(context.Quick);
        // The controller starts with another repo only: the measured one is not polled until every job is queued.
        await using var world = await BenchWorld.StartAsync(context.StateRoot, Name, profile, vms: jobs, [Idle], ct);
        context.Say(Name, profile, $"controller pid {world.Controller.Pid} joined; {jobs} VMs ready; queueing {jobs} jobs in one run of {Repo}, not polled yet");
        var first = await world.GitHub.QueueJobAsync(new QueueJobRequest(Repo, BenchWorld.RunnerLabels, DurationSeconds: 1), ct);
        var ids = new List<long> { first.JobId };
        for (var i = 1; i < jobs; i++)
        {
            ids.Add((await world.GitHub.QueueJobAsync(new QueueJobRequest(Repo, BenchWorld.RunnerLabels, DurationSeconds: 1, RunId: first.RunId), ct)).JobId);
        }

        var cpuBefore = world.Meter.CpuSeconds();
        var configured = DateTimeOffset.UtcNow;
        await world.World.WriteActionsConfigAsync(string.Join(',', BenchWorld.RunnerLabels), $"{Idle},{Repo}", ct);
        var started = await Deadline.UntilAsync(() => world.GitHub.ListJobsAsync(Repo, ct),
            js => js.Count(j => j.StartedAt is not null) == jobs, TimeSpan.FromSeconds(context.Quick ? 90 : 240), $"all {jobs} jobs of {Repo} to start", ct,
            TimeSpan.FromMilliseconds(100));
        var cpuAtStart = world.Meter.CpuSeconds();
        await Deadline.UntilAsync(() => world.GitHub.ListJobsAsync(Repo, ct), js => js.All(j => j.Status == "completed"),
            TimeSpan.FromSeconds(context.Quick ? 90 : 240), "every job to complete", ct);
        await RecordInvariantsAsync(context, world, Name, result, ct);

        var starts = started.Select(j => j.StartedAt!.Value).Order().ToList();
        var spread = Math.Max((starts[^1] - starts[0]).TotalSeconds, 0.001);
        result.Figures[Figure.Jobs] = jobs;
        result.Figures["runners_started_per_s"] = (jobs - 1) / spread;
        result.Figures["first_runner_started_after_config_s"] = (starts[0] - configured).TotalSeconds;
        result.Figures["all_started_after_config_s"] = (starts[^1] - configured).TotalSeconds;
        result.Figures["all_started_after_first_start_s"] = spread;
        result.Figures["controller_cpu_ms_per_runner_start"] = (cpuAtStart - cpuBefore) * 1000 / jobs;
        // Where the time goes, from the emulator's records: the registration (generate-jitconfig), its redemption (the
        // runner process started over SSH connects with its JIT config) and the job's start, after the ConfigMap change.
        var runners = (await world.GitHub.ListRunnersAsync(all: true, ct)).Where(r => r.Repo == Repo).ToList();
        Spread(result, "registered", runners.Select(r => (r.RegisteredAt - configured).TotalSeconds));
        Spread(result, "redeemed", runners.Where(r => r.RedeemedAt is not null).Select(r => (r.RedeemedAt!.Value - configured).TotalSeconds));
        Spread(result, "started", starts.Select(t => (t - configured).TotalSeconds));
        result.Notes.Add($"after the ConfigMap change (s, first / median / last): registered {Describe(result, "registered")}, runner connected {Describe(result, "redeemed")}, job started {Describe(result, "started")}");
        RecordController(world, result);
        result.ControllerLog = world.KeepLog(context.OutDir, Name);
        context.Say(Name, profile, result.Notes[^1]);
        context.Say(Name, profile, $"{jobs} runners started {spread:F2} s apart ({result.Figures["runners_started_per_s"]:F1}/s); " +
                                   $"first {result.Figures["first_runner_started_after_config_s"]:F2} s after the ConfigMap named the repo");
    }

    private static void Spread(ProfileResult result, string what, IEnumerable<double> seconds)
    {
        var sorted = seconds.Order().ToList();
        if (sorted.Count == 0)
        {
            return;
        }

        result.Figures[$"{what}_first_s"] = sorted[0];
        result.Figures[$"{what}_median_s"] = sorted[sorted.Count / 2];
        result.Figures[$"{what}_last_s"] = sorted[^1];
    }

    private static string Describe(ProfileResult result, string what) =>
        result.Figures.TryGetValue($"{what}_first_s", out var first)
            ? $"{first:F1} / {result.Figures[$"{what}_median_s"]:F1} / {result.Figures[$"{what}_last_s"]:F1}"
            : "none";
}
