using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.Kubernetes;
using k8s;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>What a real cluster does that a kind sandbox would not (issue 13): per-kind watch expiry, reused VM
/// names, terminating VMs. Each runs the controller against the sandbox through its production clients.</summary>
public sealed class ClusterFidelityTests
{
    private const string VmiRelisted = "virtualmachineinstances: watch version expired (410 Gone), listing again";

    [Fact]
    public async Task A_vmi_only_relist_never_reads_as_the_deletion_of_vms_created_since_the_vm_list()
    {
        // No VMs when the controller lists: every VM the jobs run on arrives through the VM watch, never a VM list.
        await using var world = await PipelineWorld.StartAsync(vms: 0);
        await world.StartControllerAsync();
        var store = world.Sandbox.Kube.Store;
        await Deadline.UntilAsync(() => store.OpenWatches(KubeResource.VirtualMachines) > 0 && store.OpenWatches(KubeResource.VirtualMachineInstances) > 0,
            PipelineWorld.Deadline, "the controller watching VMs and VMIs");
        world.Sandbox.Pool.ScaleUp(2);
        await world.Sandbox.Pool.WaitForReadyAsync(2, EndState.Long);
        var jobs = await EndState.QueueAsync(world, 2, durationSeconds: 8);
        foreach (var id in jobs)
        {
            await world.WaitForJobAsync(id, j => j.Status == "in_progress", "running on a VM created after the controller started");
        }

        // The VMI watch cache expires alone (an API server restart, an etcd compaction): the VMI watch gets 410 and
        // lists again while the VM watch keeps streaming.
        var before = world.Log.Count(VmiRelisted);
        Assert.True(store.ExpireWatches(KubeResource.VirtualMachineInstances) > 0, "no VMI watch was open");
        await Deadline.UntilAsync(() => world.Log.Count(VmiRelisted) > before, PipelineWorld.Deadline, "the controller relisting VMIs");

        foreach (var id in jobs)
        {
            var job = await world.WaitForJobAsync(id, j => j.Status == "completed", "completed on its own VM", EndState.Long);
            Assert.Equal("success", job.Conclusion);
            var claim = Assert.Single(world.ClaimsOf(id));
            // Its VM was released only once the job had run its course (the runner's deregistration and the job's
            // completion are one step on GitHub's side, so "after its duration" is the sharp line): the relist did not
            // take it for deleted.
            var released = world.Sandbox.VmAudit().Where(a => a.Uid == claim.Uid && a.Time >= claim.Time && a.Verb == "delete").Select(a => a.Time).FirstOrDefault();
            // The fake runner starts its clock a moment before the emulator stamps started_at (20 ms seen on a loaded
            // machine): a second's slack. A delete the relist caused comes while the job has seconds left, and kills
            // its runner (the job would not complete with success above).
            var ranItsCourse = job.StartedAt!.Value.AddSeconds(job.DurationSeconds).AddSeconds(-1);
            Assert.True(released == default || released >= ranItsCourse, $"job {id}: VM {claim.Name} deleted at {released:O}, before the job ran its course at {ranItsCourse:O}");
        }

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task The_instance_of_a_deleted_vm_never_stands_for_the_new_vm_of_its_name()
    {
        // Found by ClusterTests under load: the VM watch told of blip-0's deletion and of the new blip-0 while the VMI
        // watch still held the old instance (Ready). The controller took the new VM for booted, claimed it on the old
        // instance's word, and when the old instance's stop arrived, gave the new VM up under its running runner.
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync();
        var store = world.Sandbox.Kube.Store;
        var ns = world.Sandbox.Namespace;
        await Deadline.UntilAsync(() => store.OpenWatches(KubeResource.VirtualMachines) > 0 && store.OpenWatches(KubeResource.VirtualMachineInstances) > 0,
            PipelineWorld.Deadline, "the controller watching VMs and VMIs");
        var firstUid = store.Get(KubeResource.VirtualMachines, ns, "blip-0")["metadata"]!["uid"]!.GetValue<string>();

        // The VMI watch stalls; the VM watch streams on. blip-0 goes, blip-1 replaces it, blip-1 goes: a new blip-0.
        var plural = KubeResource.VirtualMachineInstances.Plural;
        world.Sandbox.Kube.Faults.HoldWatches(plural);
        var kube = world.Sandbox.KubeAdmin;
        await kube.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", ns, "virtualmachines", "blip-0");
        await Deadline.UntilAsync(() => world.Sandbox.Pool.ReadyVmNames().SequenceEqual(["blip-1"]), PipelineWorld.Deadline, "blip-1 replacing blip-0");
        await kube.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", ns, "virtualmachines", "blip-1");
        await Deadline.UntilAsync(
            () => world.Sandbox.Pool.ReadyVmNames().SequenceEqual(["blip-0"]) && store.TryGet(KubeResource.VirtualMachines, ns, "blip-1") is null,
            PipelineWorld.Deadline, "a new blip-0 booted");
        var secondUid = store.Get(KubeResource.VirtualMachines, ns, "blip-0")["metadata"]!["uid"]!.GetValue<string>();
        Assert.NotEqual(firstUid, secondUid);

        // The controller has seen the new blip-0 but not its instance: it must find no claimable VM and wait.
        var job = (await EndState.QueueAsync(world, 1, durationSeconds: 1))[0];
        await Deadline.UntilAsync(() => world.Log.Contains($"job {job} (org/repo): failed to allocate runner VM: no claimable VM"),
            PipelineWorld.Deadline, "the job finding no claimable VM while the new VM's instance is unseen");
        Assert.Empty(world.ClaimsOf(job));

        world.Sandbox.Kube.Faults.ReleaseWatches(plural);
        var done = await world.WaitForJobAsync(job, j => j.Status == "completed", "completed on the new blip-0", EndState.Long);
        Assert.Equal("success", done.Conclusion);
        Assert.Equal([secondUid], world.ClaimsOf(job).Select(c => c.Uid));
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("giving VM", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_terminating_vm_whose_guest_still_runs_is_never_claimed()
    {
        // blip-0 is deleted (by Blip's deallocation, say) and stays terminating while its guest shuts down: its VMI is
        // still Ready, its keys still there. The pool has made blip-1 meanwhile.
        await using var world = await PipelineWorld.StartAsync(vms: 1, terminationGrace: TimeSpan.FromMinutes(5));
        var kube = world.Sandbox.KubeAdmin;
        await kube.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", world.Sandbox.Namespace, "virtualmachines", "blip-0");
        await world.Sandbox.Pool.WaitForReadyAsync(2, PipelineWorld.Deadline);
        var store = world.Sandbox.Kube.Store;
        Assert.NotNull(store.Get(KubeResource.VirtualMachines, world.Sandbox.Namespace, "blip-0")["metadata"]!["deletionTimestamp"]);
        Assert.Contains("blip-0", world.Sandbox.Pool.ReadyVmNames());

        await world.StartControllerAsync();
        var job = (await EndState.QueueAsync(world, 1, durationSeconds: 1))[0];

        var done = await world.WaitForJobAsync(job, j => j.Status == "completed", "completed", EndState.Long);
        Assert.Equal("success", done.Conclusion);
        Assert.Equal(["blip-1"], world.ClaimsOf(job).Select(c => c.Name));
        Assert.DoesNotContain(world.Sandbox.VmAudit(), a => a.Name == "blip-0" && a.User != "kubevirt-pool" && a.Annotations.ContainsKey("blip.io/session-id"));
    }
}
