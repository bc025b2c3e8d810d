using Akka.DependencyInjection;
using Blip.Actors.Inspection;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>The spec's configuration: Secret github-pat and ConfigMap github-actions, watched, no restart.</summary>
public sealed class ConfigurationTests
{
    private static async Task<int> RunsListsOf(PipelineWorld world, string repo)
    {
        var stats = await world.GitHub.GetStatsAsync();
        return stats.ByRepo.TryGetValue(repo, out var counts) ? counts.Total : 0;
    }

    private static async Task<IReadOnlyList<string>> PolledReposAsync(PipelineWorld world) =>
        (await DependencyResolver.For(world.Controller!.ActorSystem).Resolver.GetService<NodeInspector>().Jobs.ReposAsync()).Repos;

    // Without the watch, a change reaches the controller only when the watch request times out (300 s) and it lists
    // again. Anything well under that, however slow the machine, shows the watch delivered it; how fast it does is
    // for the benchmarks, not for a functional test on a shared machine.
    private static readonly TimeSpan ByTheWatch = TimeSpan.FromSeconds(60);

    // The config watcher's troubleshooting line (the spec's words, then which object and key).
    private const string NoPatLine = "no PAT available: Secret";

    [Fact]
    public async Task Polling_follows_the_secret_and_configmap_without_restart()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/repo"], configure: false);
        await world.StartControllerAsync();

        // Neither object: both troubleshooting lines, and no GitHub call at all.
        await Deadline.UntilAsync(() => world.Log.Contains(NoPatLine), PipelineWorld.Deadline, "'no PAT available' logged");
        await Deadline.UntilAsync(() => world.Log.Contains("actions config incomplete"), PipelineWorld.Deadline, "'actions config incomplete' logged");
        Assert.Equal(0, (await world.GitHub.GetStatsAsync()).Total);

        // Both present: polling starts, driven by the watch.
        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/repo");
        await world.Sandbox.WritePatAsync(world.Sandbox.Pat);
        await Deadline.UntilAsync(() => RunsListsOf(world, "org/repo"), n => n > 0, ByTheWatch, "org/repo polled once both objects existed");

        // Deleting the Secret stops polling; the line is logged once per change, not per tick.
        await world.Sandbox.DeleteSecretAsync("github-pat");
        // The config watcher's line, not a poll that failed for want of the PAT before its poller was stopped.
        await Deadline.UntilAsync(() => world.Log.Count(NoPatLine) >= 2, PipelineWorld.Deadline, "'no PAT available' after the delete");
        await Deadline.UntilAsync(() => world.Log.Contains("repo org/repo: polling stopped"), PipelineWorld.Deadline, "poller stopped");
        // Nothing is left that could poll: the poller stopped above and the coordinator (asked after it) holds none. So no
        // window is watched here; the count is compared again right before the PAT comes back.
        await Deadline.UntilAsync(() => PolledReposAsync(world), repos => repos.Count == 0, PipelineWorld.Deadline, "the coordinator polling no repo");
        var before = await RunsListsOf(world, "org/repo");
        Assert.Equal(2, world.Log.Count(NoPatLine));

        // Restored: polling resumes; deleting the ConfigMap stops it again.
        Assert.Equal(before, await RunsListsOf(world, "org/repo"));
        await world.Sandbox.WritePatAsync(world.Sandbox.Pat);
        await Deadline.UntilAsync(() => RunsListsOf(world, "org/repo"), n => n > before, PipelineWorld.Deadline, "polling resumed");
        await world.Sandbox.DeleteConfigMapAsync("github-actions");
        await Deadline.UntilAsync(() => world.Log.Count("actions config incomplete") >= 2, PipelineWorld.Deadline, "'actions config incomplete' after the delete");
    }

    [Fact]
    public async Task A_repo_added_is_polled_within_a_second_and_a_removed_one_stops()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/one", "org/two"], configure: false);
        await world.Sandbox.WritePatAsync(world.Sandbox.Pat);
        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/one");
        await world.StartControllerAsync();
        await Deadline.UntilAsync(() => RunsListsOf(world, "org/one"), n => n > 0, PipelineWorld.Deadline, "org/one polled");

        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/one,org/two");
        await Deadline.UntilAsync(() => RunsListsOf(world, "org/two"), n => n > 0, ByTheWatch, "org/two polled");

        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/two");
        await Deadline.UntilAsync(() => world.Log.Contains("repo org/one: polling stopped"), ByTheWatch, "org/one stopped");
        var stopped = await RunsListsOf(world, "org/one");
        await Deadline.UntilAsync(() => RunsListsOf(world, "org/two"), n => n > 3, PipelineWorld.Deadline, "org/two keeps being polled");
        Assert.Equal(stopped, await RunsListsOf(world, "org/one"));
    }

    [Fact]
    public async Task A_malformed_repo_is_named_in_the_log_and_the_valid_ones_still_work()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/good"], configure: false);
        await world.Sandbox.WritePatAsync(world.Sandbox.Pat);
        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/good, not-a-repo ,org/a/b");
        await world.StartControllerAsync();

        var job = await world.GitHub.QueueJobAsync("org/good", ["self-hosted", "blip"], durationSeconds: 1);

        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "served despite the bad entries");
        Assert.Contains(world.Log.Lines, l => l.Contains("'not-a-repo'") && l.Contains("github-actions"));
        Assert.Contains(world.Log.Lines, l => l.Contains("'org/a/b'"));
    }

    [Fact]
    public async Task A_rotated_pat_is_used_by_the_very_next_call()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/repo"]);
        await world.StartControllerAsync();
        await Deadline.UntilAsync(() => RunsListsOf(world, "org/repo"), n => n > 0, PipelineWorld.Deadline, "polled with the first PAT");

        var rotated = await world.GitHub.CreateTokenAsync(new CreateTokenRequest(["*"]));
        await world.Sandbox.WritePatAsync(rotated);
        await Deadline.UntilAsync(() => world.Log.Contains("PAT rotated"), PipelineWorld.Deadline, "rotation noticed");
        // The old PAT is now worthless: anything still using it would fail with 403.
        await world.GitHub.SetBudgetAsync(world.Sandbox.Pat, remaining: 0);

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "served with the rotated PAT");
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("rate limit", StringComparison.OrdinalIgnoreCase) || l.Contains("HTTP 403"));
    }
}
