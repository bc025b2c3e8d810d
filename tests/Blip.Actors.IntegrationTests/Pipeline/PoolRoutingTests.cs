using System.Text.Json.Nodes;
using Blip.Actors.IntegrationTests.Harness;
using k8s;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Key <c>pools</c> of ConfigMap github-actions routes a job carrying an extra label to a VM pool of its own;
/// a job without one stays on the default pool.</summary>
public sealed class PoolRoutingTests
{
    private const string LargePool = "blip-large";

    [Fact]
    public async Task A_large_job_runs_on_the_large_pool_and_a_plain_job_on_the_default_pool()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2, extraPools: new Dictionary<string, int> { [LargePool] = 1 });
        await world.Sandbox.UpsertConfigMapAsync("github-actions", new Dictionary<string, string>
        {
            ["runner-labels"] = "self-hosted,blip",
            ["repos"] = "org/repo",
            ["pools"] = $"large={LargePool}",
        });
        await world.StartControllerAsync();

        // One after the other: a runner registered for the large job could also take a plain job queued meanwhile (GitHub gives a
        // job to any runner whose labels cover it), and the test is about where each job's own VM comes from.
        var large = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip", "large"], durationSeconds: 5);
        // While the job's VM is still claimed, the VM the claim wrote is read back: its pool label says where the job went.
        var largeVm = await ClaimedVmAsync(world, large.JobId);
        Assert.Equal(LargePool, PoolOf(largeVm));
        Assert.StartsWith($"{LargePool}-", Name(largeVm), StringComparison.Ordinal);
        // The routed pool is a VirtualMachinePool of its own, the owner of its VMs (where its events are recorded).
        var poolObject = JsonNode.Parse(((System.Text.Json.JsonElement)await world.Sandbox.KubeAdmin.CustomObjects.GetNamespacedCustomObjectAsync(
            "pool.kubevirt.io", "v1beta1", world.Sandbox.Namespace, "virtualmachinepools", LargePool)).GetRawText())!;
        Assert.Equal(poolObject["metadata"]!["uid"]!.GetValue<string>(), largeVm["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
        var largeDone = await world.WaitForJobAsync(large.JobId, j => j.Status == "completed", "completed by a runner");

        var plain = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 5);
        var plainVm = await ClaimedVmAsync(world, plain.JobId);
        Assert.Equal(world.Sandbox.Options.PoolName, PoolOf(plainVm));
        Assert.Matches("^blip-[0-9]+$", Name(plainVm));
        var plainDone = await world.WaitForJobAsync(plain.JobId, j => j.Status == "completed", "completed by a runner");

        Assert.Equal(("success", "success"), (largeDone.Conclusion, plainDone.Conclusion));
        Assert.StartsWith($"blip-{large.JobId}-", largeDone.RunnerName);
        Assert.StartsWith($"blip-{plain.JobId}-", plainDone.RunnerName);
        Assert.Single(world.ClaimsOf(large.JobId));
        Assert.Single(world.ClaimsOf(plain.JobId));
    }

    [Fact]
    public async Task A_large_job_with_no_vm_in_its_pool_waits_for_one_there_and_is_named_stuck_on_its_pool()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, extraPools: new Dictionary<string, int> { [LargePool] = 0 });
        await world.Sandbox.UpsertConfigMapAsync("github-actions", new Dictionary<string, string>
        {
            ["runner-labels"] = "self-hosted,blip",
            ["repos"] = "org/repo",
            ["pools"] = $"large={LargePool}",
        });
        await world.StartControllerAsync(o => o.StuckJobAfter = TimeSpan.FromSeconds(2));

        var large = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip", "large"], durationSeconds: 1);

        await Deadline.UntilAsync(() => world.Log.Contains($"job {large.JobId} (org/repo): failed to allocate runner VM: no claimable VM in pool {LargePool}"),
            Hardening.EndState.Long, "the allocation failure naming the large pool");
        var stuck = await Deadline.UntilAsync(
            async () => (await world.Sandbox.KubeAdmin.CoreV1.ListNamespacedEventAsync(world.Sandbox.Namespace)).Items.FirstOrDefault(e =>
                e.Reason == "JobStuckNoVmClaimable" && e.Message.StartsWith($"job {large.JobId} ", StringComparison.Ordinal)),
            e => e is not null, Hardening.EndState.Long, "the stuck job named on its pool");
        Assert.Equal(("VirtualMachinePool", LargePool), (stuck!.InvolvedObject.Kind, stuck.InvolvedObject.Name));
        Assert.Contains($"no VM claimable in pool {LargePool}", stuck.Message);
        // The default pool's VM was claimable all along and was never taken for it.
        Assert.Empty(world.ClaimsOf(large.JobId));

        world.Sandbox.ExtraPools[LargePool].ScaleUp(1);

        var vm = await ClaimedVmAsync(world, large.JobId);
        Assert.Equal(LargePool, PoolOf(vm));
        await world.WaitForJobAsync(large.JobId, j => j.Status == "completed", "completed by a runner");
    }

    private static async Task<JsonNode> ClaimedVmAsync(PipelineWorld world, long jobId)
    {
        var claim = (await Deadline.UntilAsync(
            () => Task.FromResult(world.ClaimsOf(jobId)), claims => claims.Count == 1, PipelineWorld.Deadline, $"job {jobId}: a VM claimed"))[0];
        var raw = await world.Sandbox.KubeAdmin.CustomObjects.GetNamespacedCustomObjectAsync("kubevirt.io", "v1", world.Sandbox.Namespace, "virtualmachines", claim.Name);
        var vm = JsonNode.Parse(((System.Text.Json.JsonElement)raw).GetRawText())!;
        Assert.Equal(claim.Uid, vm["metadata"]!["uid"]!.GetValue<string>());
        return vm;
    }

    private static string? PoolOf(JsonNode vm) => vm["metadata"]?["labels"]?["blip.io/pool"]?.GetValue<string>();

    private static string Name(JsonNode vm) => vm["metadata"]!["name"]!.GetValue<string>();
}
