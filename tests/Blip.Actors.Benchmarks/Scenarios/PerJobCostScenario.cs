using System.Globalization;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Shared;

namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>
/// A few jobs run one after another on one repo: GitHub counted requests, Kubernetes writes and reads per job,
/// minus an idle baseline (same repo, same controller, measured just before) scaled to the jobs' window.
/// </summary>
public sealed class PerJobCostScenario : Scenario
{
    private const string Repo = "bench-org/per-job";
    private const string RunsList = "GET /repos/{o}/{r}/actions/runs";
    private const string ReleasesEndpoint = "GET /repos/actions/runner/releases";

    public override string Name => "per-job-cost";

    public override string Description =>
        "jobs run one after another (queue → started → completed → VM released); requests in that window minus an idle baseline of the same controller, per job";

    private static (int Jobs, int DurationSeconds, TimeSpan Baseline) Size(bool quick) =>
        quick ? (1, 1, TimeSpan.FromSeconds(3)) : (3, 16, TimeSpan.FromSeconds(20));

    /// <summary>Webhooks too: with them a job should cost at most half what polling alone costs.</summary>
    public override IReadOnlyList<Profile> Profiles => [Profile.Default, Profile.Upstream, Profile.Webhooks];

    public override Dictionary<string, string> Sizes(bool quick)
    {
        var (jobs, duration, baseline) = Size(quick);
        return new()
        {
            ["jobs"] = jobs.ToString(CultureInfo.InvariantCulture),
            ["job_duration_s"] = duration.ToString(CultureInfo.InvariantCulture),
            ["idle_baseline_s"] = baseline.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            ["vms"] = "3",
        };
    }

    private sealed record Sample(DateTimeOffset At, SandboxStats GitHub, IReadOnlyDictionary<string, long> Kube);

    public override async Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct)
    {
        var (jobs, duration, baselineLength) = Size(context.Quick);
        await using var world = await BenchWorld.StartAsync(context.StateRoot, Name, profile, vms: 3, [Repo], ct);
        async Task<Sample> SampleAsync() => new(DateTimeOffset.UtcNow, await world.GitHub.GetStatsAsync(ct), world.KubeRequestsByVerb());

        // Two polls: the second one is conditional already (ETags known); --quick settles for one.
        var warmPolls = context.Quick ? 1 : 2;
        context.Say(Name, profile, $"controller pid {world.Controller.Pid} joined; warming up ({warmPolls} polls), then {baselineLength.TotalSeconds:F0} s idle baseline");
        await Deadline.UntilAsync(() => world.GitHub.GetStatsAsync(ct), s => RunsLists(s) >= profile.GetsPerIdlePoll + warmPolls - 1, TimeSpan.FromSeconds(60), "the warm-up polls", ct);
        var idleFrom = await SampleAsync();
        await Task.Delay(baselineLength, ct); // the idle measurement window: pacing, not a wait for a state
        var idleTo = await SampleAsync();

        var jobsFrom = await SampleAsync();
        for (var i = 0; i < jobs; i++)
        {
            var queued = await world.GitHub.QueueJobAsync(Repo, BenchWorld.RunnerLabels, duration, ct);
            await Deadline.UntilAsync(() => world.GitHub.GetJobAsync(queued.JobId, ct), j => j?.Status == "completed", TimeSpan.FromSeconds(duration + 120), $"job {queued.JobId} to complete", ct);
            await Deadline.UntilAsync(() => Task.FromResult(Invariants.HeldSessions(world.World)), held => held.Count == 0, TimeSpan.FromSeconds(90), $"job {queued.JobId}'s VM to be released", ct);
            context.Say(Name, profile, $"job {i + 1}/{jobs} (id {queued.JobId}) completed and its VM released");
        }

        // The last job's VM is released; the window closes after the next poll, so the requests that settle its end
        // (the runner's removal, the release's own replies) are in it. Its idle share is subtracted as for any window.
        var pollsAtRelease = RunsLists(await world.GitHub.GetStatsAsync(ct));
        await Deadline.UntilAsync(() => world.GitHub.GetStatsAsync(ct), s => RunsLists(s) > pollsAtRelease,
            TimeSpan.FromSeconds(60), "a poll after the last release", ct);
        var jobsTo = await SampleAsync();

        var scale = (jobsTo.At - jobsFrom.At) / (idleTo.At - idleFrom.At);
        double PerJob(Func<Sample, double> f) => ((f(jobsTo) - f(jobsFrom)) - (f(idleTo) - f(idleFrom)) * scale) / jobs;
        double Kube(Sample s, string verb) => s.Kube.GetValueOrDefault(verb);
        var idleWrites = world.ControllerKubeWrites(idleFrom.At, idleTo.At);
        var jobWrites = world.ControllerKubeWrites(jobsFrom.At, jobsTo.At);

        result.Figures[Figure.Jobs] = jobs;
        result.Figures["jobs_window_s"] = (jobsTo.At - jobsFrom.At).TotalSeconds;
        // The node's runner release watch lists actions/runner's releases when its first runner starts and then hourly: a
        // cost of the node, not of a job, so it is reported on its own and left out of the per-job figure.
        double Releases(Sample s) => s.GitHub.ByEndpoint.GetValueOrDefault(ReleasesEndpoint)?.Counted ?? 0;
        result.Figures["github_counted_per_job"] = PerJob(s => s.GitHub.Counted - Releases(s));
        result.Figures["github_release_listings"] = Releases(jobsTo) - Releases(jobsFrom);
        result.Figures["github_requests_per_job"] = PerJob(s => s.GitHub.Total);
        result.Figures["github_counted_idle_per_min"] = (idleTo.GitHub.Counted - idleFrom.GitHub.Counted) / (idleTo.At - idleFrom.At).TotalMinutes;
        result.Figures["kube_writes_per_job"] = (jobWrites - idleWrites * scale) / jobs;
        result.Figures["kube_gets_per_job"] = PerJob(s => Kube(s, "get"));
        result.Figures["kube_lists_per_job"] = PerJob(s => Kube(s, "list"));
        result.Figures["kube_requests_per_job"] = PerJob(s => Kube(s, "total"));
        result.GitHubCountedByEndpoint = jobsTo.GitHub.ByEndpoint.ToDictionary(
            e => e.Key, e => e.Value.Counted - (jobsFrom.GitHub.ByEndpoint.GetValueOrDefault(e.Key)?.Counted ?? 0));
        var byStatus = RequestsByStatus(jobsFrom.GitHub, jobsTo.GitHub);
        result.Notes.Add($"GitHub requests in the jobs' window by endpoint and status (304s are free): {byStatus}");
        context.Say(Name, profile, $"GitHub requests in the jobs' window: {byStatus}");
        if (profile.ReceivesWebhooks)
        {
            result.Figures["webhooks_delivered"] = world.World.GitHub.WebhooksDelivered;
        }

        var writes = world.World.Kube.Store.Audit
            .Where(a => a.User == Blip.Sandbox.Kubernetes.KubeApiEmulator.ControllerAuditUser && a.Time >= jobsFrom.At && a.Time < jobsTo.At)
            .GroupBy(a => $"{a.Verb} {a.Resource}")
            .Select(g => $"{g.Key}: {g.Count()}");
        result.Notes.Add($"controller's Kubernetes writes in the jobs' window: {string.Join(", ", writes)}");
        await RecordInvariantsAsync(context, world, Name, result, ct);
        RecordController(world, result);
        result.ControllerLog = world.KeepLog(context.OutDir, Name);
        context.Say(Name, profile, $"per job: {result.Figures["github_counted_per_job"]:F2} counted GitHub requests, {result.Figures["kube_writes_per_job"]:F1} Kubernetes writes, {result.Figures["kube_lists_per_job"]:F1} lists");
    }

    private static int RunsLists(SandboxStats stats) => stats.ByEndpoint.GetValueOrDefault(RunsList)?.Total ?? 0;

    /// <summary>"GET /repos/{o}/{r}/actions/runs 200×3 304×20; …": what each endpoint answered between two samples.</summary>
    private static string RequestsByStatus(SandboxStats from, SandboxStats to) => string.Join("; ", to.ByEndpoint
        .OrderBy(e => e.Key, StringComparer.Ordinal)
        .Select(e => (e.Key, Statuses: e.Value.ByStatus
            .Select(s => (s.Key, Count: s.Value - (from.ByEndpoint.GetValueOrDefault(e.Key)?.ByStatus.GetValueOrDefault(s.Key) ?? 0)))
            .Where(s => s.Count > 0)
            .Select(s => $"{s.Key}×{s.Count}")
            .ToList()))
        .Where(e => e.Statuses.Count > 0)
        .Select(e => $"{e.Key} {string.Join(" ", e.Statuses)}"));
}
