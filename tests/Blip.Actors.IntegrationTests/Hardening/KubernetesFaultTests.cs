using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.Kubernetes;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>Faults injected into the Kubernetes API; what each test asserts is said on <see cref="FaultMatrixTests"/>.</summary>
public sealed class KubernetesFaultTests
{
    /// <summary>How long the Kubernetes API refuses everything in the outage test: the length of the fault (the test's
    /// name), pacing, not a wait for a state.</summary>
    private static readonly TimeSpan KubeOutage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Kubernetes_failing_a_third_of_vm_writes_and_dropping_watches()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        world.Sandbox.Kube.Faults.Errors = [new KubeFaults.ErrorRule("update", "virtualmachines", 0.33), new KubeFaults.ErrorRule("patch", "virtualmachines", 0.33)];
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 4);
        await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, EndState.Long, "a claim");
        world.Sandbox.Kube.Store.DropWatches();

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task The_kubernetes_api_failing_everything_for_ten_seconds_mid_burst_loses_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        // A registration made just before the outage can be left behind, offline and never redeemed, by a job that then
        // ran on another runner: the orphan sweeper deletes it (issue 14 item 8), here with test-sized periods.
        await world.StartControllerAsync(o =>
        {
            o.RunnerSweepInterval = TimeSpan.FromSeconds(1);
            o.OrphanRunnerGrace = TimeSpan.FromSeconds(3);
        });
        var jobs = await EndState.QueueAsync(world, 5, durationSeconds: 2);
        await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, EndState.Long, "a claim");

        world.Sandbox.Kube.Faults.Errors = [new KubeFaults.ErrorRule(null, null, 1.0)];
        world.Sandbox.Kube.Store.DropWatches();
        // The outage is met (a request refused: the controller relists after the dropped watches), then kept up for
        // its length: pacing of the fault, not a wait for a state.
        var refusedBefore = world.Sandbox.Kube.Faults.Injected;
        await Deadline.UntilAsync(() => world.Sandbox.Kube.Faults.Injected > refusedBefore, EndState.Long, "a Kubernetes request refused by the outage");
        await Task.Delay(KubeOutage);
        world.Sandbox.Kube.Faults.Clear();

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task A_slow_kubernetes_api_answering_every_request_after_400_ms_loses_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        world.Sandbox.Kube.Faults.Latency = TimeSpan.FromMilliseconds(400);
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 4);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task Claims_racing_another_writer_get_409_and_move_on_to_other_vms()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.StartControllerAsync();
        using var stop = new CancellationTokenSource();
        // Another writer touches every VM as fast as the API lets it (a merge patch: it never conflicts itself), so a
        // claim made from the version the controller saw a moment ago is stale: a real 409, not an injected one.
        var racer = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                await Task.WhenAll(world.Sandbox.Pool.ReadyVmNames().Select(vm => VmEdits.MergeAnnotationsAsync(world, vm, $$"""{"example.com/touched":"{{n}}"}""")));
            }
        });

        var jobs = await EndState.QueueAsync(world, 5);
        await Deadline.UntilAsync(() => world.Log.Contains("(409 Conflict: another claim or writer won); trying another"), EndState.Long, "a claim losing the race");
        await stop.CancelAsync();
        await racer;

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task Watches_resumed_after_the_history_was_compacted_get_410_list_again_and_lose_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.StartControllerAsync();
        var jobs = await EndState.QueueAsync(world, 4, durationSeconds: 2);
        await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, EndState.Long, "a claim");

        await world.Sandbox.UpsertConfigMapAsync("unrelated", new Dictionary<string, string> { ["at"] = DateTime.UtcNow.ToString("O") }); // every watcher is now behind
        world.Sandbox.Kube.Store.Compact();
        world.Sandbox.Kube.Store.DropWatches();

        await Deadline.UntilAsync(() => world.Log.Contains("watch version expired (410 Gone), listing again"), EndState.Long, "a watch listing again");
        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }
}
