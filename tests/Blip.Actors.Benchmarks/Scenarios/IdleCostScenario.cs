using System.Globalization;
using Blip.Sandbox.Shared;

namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>
/// Many configured repos and no jobs: after every repo was polled once (warm-up), what a fixed window costs,
/// extrapolated per repo-hour (GitHub) and per hour (Kubernetes).
/// </summary>
public sealed class IdleCostScenario : Scenario
{
    public override string Name => "idle-cost";

    public override string Description =>
        "idle repos, no jobs; after every repo's first poll, GitHub requests in a fixed window extrapolated per repo-hour (counted = charged to the primary rate limit; 304s are free)";

    private static (int Repos, TimeSpan Window) Size(bool quick) => quick ? (20, TimeSpan.FromSeconds(6)) : (200, TimeSpan.FromSeconds(60));

    public override Dictionary<string, string> Sizes(bool quick)
    {
        var (repos, window) = Size(quick);
        return new()
        {
            ["repos"] = repos.ToString(CultureInfo.InvariantCulture),
            ["window_s"] = window.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        };
    }

    public override async Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct)
    {
        var (repoCount, window) = Size(context.Quick);
        var repos = Enumerable.Range(0, repoCount).Select(i => $"bench-org/idle-{i:D3}").ToList();
        await using var world = await BenchWorld.StartAsync(context.StateRoot, Name, profile, vms: 0, repos, ct);
        context.Say(Name, profile, $"controller pid {world.Controller.Pid} joined; warming up: every repo's first poll");
        await Deadline.UntilAsync(() => world.GitHub.GetStatsAsync(ct),
            s => s.ByRepo.Count >= repoCount && s.ByRepo.Values.All(r => r.Total >= profile.GetsPerIdlePoll),
            TimeSpan.FromSeconds(120), "a first poll of every repo", ct, TimeSpan.FromMilliseconds(250));

        var before = await world.GitHub.GetStatsAsync(ct);
        var kubeBefore = world.KubeRequestsByVerb();
        var cpuBefore = world.Meter.CpuSeconds();
        var from = DateTimeOffset.UtcNow;
        context.Say(Name, profile, $"warm; measuring {window.TotalSeconds:F0} s");
        await Task.Delay(window, ct);
        var after = await world.GitHub.GetStatsAsync(ct);
        var kubeAfter = world.KubeRequestsByVerb();
        var cpuAfter = world.Meter.CpuSeconds();
        var elapsed = DateTimeOffset.UtcNow - from;

        var perRepoHour = TimeSpan.FromHours(1) / elapsed / repoCount;
        var perHour = TimeSpan.FromHours(1) / elapsed;
        result.Figures["repos"] = repoCount;
        result.Figures["window_s"] = elapsed.TotalSeconds;
        result.Figures["github_counted_per_repo_hour"] = (after.Counted - before.Counted) * perRepoHour;
        result.Figures["github_requests_per_repo_hour"] = (after.Total - before.Total) * perRepoHour;
        result.Figures["github_not_modified_per_repo_hour"] = (after.NotModified - before.NotModified) * perRepoHour;
        result.Figures["github_counted_per_hour_all_repos"] = (after.Counted - before.Counted) * perHour;
        result.Figures["repos_one_5000_token_sustains"] = after.Counted == before.Counted
            ? double.PositiveInfinity
            : 5000 / ((after.Counted - before.Counted) * perRepoHour);
        result.Figures["kube_requests_per_hour"] = (kubeAfter["total"] - kubeBefore["total"]) * perHour;
        foreach (var verb in new[] { "get", "list", "watch" })
        {
            result.Figures[$"kube_{verb}_per_hour"] = (kubeAfter.GetValueOrDefault(verb) - kubeBefore.GetValueOrDefault(verb)) * perHour;
        }

        result.Figures["kube_writes_in_window"] = world.ControllerKubeWrites(from, DateTimeOffset.UtcNow);
        result.Figures["controller_cpu_s_per_hour"] = (cpuAfter - cpuBefore) * perHour;
        result.GitHubCountedByEndpoint = after.ByEndpoint.ToDictionary(e => e.Key, e => e.Value.Counted - before.ByEndpoint.GetValueOrDefault(e.Key)?.Counted ?? 0);
        RecordController(world, result);
        result.ControllerLog = world.KeepLog(context.OutDir, Name);
        context.Say(Name, profile, $"{after.Total - before.Total} requests, {after.Counted - before.Counted} counted in {elapsed.TotalSeconds:F0} s → {result.Figures["github_counted_per_repo_hour"]:F0} counted per repo-hour");
    }
}
