using Akka.DependencyInjection;
using Blip.Actors.Inspection;
using Blip.Actors.IntegrationTests.Hardening;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;
using k8s;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Issue 16: the runner version started on the VMs is judged against GitHub's actions/runner releases; a week
/// before GitHub's 30-day window to update closes the controller says so once (log line and Warning event on the pool),
/// and <c>blip_runner_release_days_left</c> counts down.</summary>
public sealed class RunnerReleaseTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task A_runner_25_days_behind_a_newer_release_is_warned_once_and_its_days_left_are_a_metric()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var now = DateTimeOffset.UtcNow;
        var running = Blip.Sandbox.Pool.VmPoolOptions.CurrentRunnerVersion; // what the sandbox VMs' runner reports
        var newer = $"{new Version(running).Major}.{new Version(running).Minor + 1}.0";
        world.Sandbox.GitHub.RunnerReleases = [new SandboxRunnerRelease(newer, now.AddDays(-25)), new SandboxRunnerRelease(running, now.AddDays(-60))];
        await world.StartControllerAsync(o => o.RunnerReleaseCheckInterval = TimeSpan.FromSeconds(1));

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);
        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "ran on the pool's VM", EndState.Long);

        var line = $"runner {running} started on this node's VMs is behind actions/runner {newer}: GitHub's 30-day window to update closes ";
        await Deadline.UntilAsync(() => world.Log.Contains(line), EndState.Long, "the release warning");
        Assert.Contains(world.Log.Lines, l => l.Contains(line, StringComparison.Ordinal) && l.Contains($"RUNNER_VERSION={newer}", StringComparison.Ordinal));
        var endpoint = DependencyResolver.For(world.Controller!.ActorSystem).Resolver.GetService<ManagementEndpoint>().Address!;
        var sample = $"blip_runner_release_days_left{{version=\"{running}\"}} ";
        var metrics = await Deadline.UntilAsync(() => Http.GetStringAsync(new Uri(endpoint, "/metrics")),
            text => text.Contains(sample, StringComparison.Ordinal), EndState.Long, "the days left on /metrics");
        var daysLeft = double.Parse(metrics.Split('\n').First(l => l.StartsWith(sample, StringComparison.Ordinal))[sample.Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(daysLeft, 4, 5);
        var warning = await Deadline.UntilAsync(
            async () => (await world.Sandbox.KubeAdmin.CoreV1.ListNamespacedEventAsync("blip")).Items.FirstOrDefault(e => e.Reason == "RunnerReleaseWindowClosing")!,
            e => e is not null, EndState.Long, "the RunnerReleaseWindowClosing event");
        Assert.Equal(("Warning", "VirtualMachinePool"), (warning.Type, warning.InvolvedObject.Kind));

        // Once per (version, release), however many checks follow.
        var listings = ReleaseListings(await world.StatsAsync());
        await Deadline.UntilAsync(world.StatsAsync, s => ReleaseListings(s) >= listings + 3, EndState.Long, "three more checks");
        Assert.Equal(1, world.Log.Count(line));
    }

    private static int ReleaseListings(SandboxStats stats) =>
        stats.ByEndpoint.TryGetValue("GET /repos/actions/runner/releases", out var counts) ? counts.Total : 0;
}
