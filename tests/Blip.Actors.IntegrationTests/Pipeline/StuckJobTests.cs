using Akka.DependencyInjection;
using Blip.Actors.Inspection;
using Blip.Actors.IntegrationTests.Hardening;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.Kubernetes;
using k8s;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Issue 16: a job waiting for a VM longer than <c>Blip:StuckJobAfter</c> is named once, with its cause, in the
/// log and as a Warning event on the VirtualMachinePool, and the oldest wait is a metric.</summary>
public sealed class StuckJobTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task A_job_waiting_while_every_vm_is_claimed_is_reported_as_no_vm_claimable()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync(o => o.StuckJobAfter = TimeSpan.FromSeconds(2));
        var busy = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 600);
        await Deadline.UntilAsync(() => Task.FromResult(world.ClaimsOf(busy.JobId).Count), n => n >= 1, EndState.Long, "the only VM claimed");

        var waiting = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        var line = $"job {waiting.JobId} (org/repo) has waited ";
        await Deadline.UntilAsync(() => world.Log.Contains(line), EndState.Long, "the stuck job named");
        Assert.Contains(world.Log.Lines, l => l.Contains(line, StringComparison.Ordinal) && l.Contains("no VM claimable in pool blip", StringComparison.Ordinal));
        var warning = await StuckEventAsync(world, waiting.JobId);
        Assert.Equal("JobStuckNoVmClaimable", warning.Reason);
        Assert.Equal("Warning", warning.Type);
        Assert.Equal(("VirtualMachinePool", "blip"), (warning.InvolvedObject.Kind, warning.InvolvedObject.Name));

        var endpoint = DependencyResolver.For(world.Controller!.ActorSystem).Resolver.GetService<ManagementEndpoint>().Address!;
        var metrics = await Deadline.UntilAsync(() => Http.GetStringAsync(new Uri(endpoint, "/metrics")),
            text => text.Contains("blip_oldest_waiting_job_age_seconds{repo=\"org/repo\",labels=\"blip,self-hosted\"} ", StringComparison.Ordinal),
            EndState.Long, "the oldest wait on /metrics");
        Assert.Contains("# TYPE blip_oldest_waiting_job_age_seconds gauge", metrics);
        Assert.Equal(1, world.Log.Count(line));
    }

    [Fact]
    public async Task A_job_whose_claims_fail_is_reported_as_claims_failing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        world.Sandbox.Kube.Faults.Errors = [new KubeFaults.ErrorRule("update", "virtualmachines", 1.0)];
        // The job is judged once its first claim has failed, or after the threshold if no attempt ever ends: 10 s keeps a
        // loaded machine's first (failing) claim well inside it.
        await world.StartControllerAsync(o => o.StuckJobAfter = TimeSpan.FromSeconds(10));

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        await Deadline.UntilAsync(() => world.Log.Contains($"job {job.JobId} (org/repo) has waited "), EndState.Long, "the stuck job named");
        var warning = await StuckEventAsync(world, job.JobId);
        Assert.Equal("JobStuckClaimsFailing", warning.Reason);
        Assert.Contains("claims failing (last: ", warning.Message);

        world.Sandbox.Kube.Faults.Errors = [];
        await Deadline.UntilAsync(() => Task.FromResult(world.ClaimsOf(job.JobId).Count), n => n >= 1, EndState.Long, "claimed once claims work again");
    }

    [Fact]
    public async Task A_job_whose_claims_keep_losing_to_a_change_the_controller_has_not_seen_is_reported_as_claimable_but_not_claimed()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync(o => o.StuckJobAfter = TimeSpan.FromSeconds(10));
        var store = world.Sandbox.Kube.Store;
        await Deadline.UntilAsync(() => store.OpenWatches(KubeResource.VirtualMachines) > 0 && store.OpenWatches(KubeResource.VirtualMachineInstances) > 0,
            PipelineWorld.Deadline, "the controller watching VMs and VMIs");

        // The VM watch stalls, and someone else changes the VM: every claim, made from the version the controller last saw,
        // loses with a real 409 while the controller still sees a claimable VM.
        var plural = KubeResource.VirtualMachines.Plural;
        world.Sandbox.Kube.Faults.HoldWatches(plural);
        await VmEdits.MergeAnnotationsAsync(world, "blip-0", """{"example.com/touched":"1"}""");
        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        await Deadline.UntilAsync(() => world.Log.Contains($"job {job.JobId} (org/repo) has waited "), EndState.Long, "the stuck job named");
        Assert.Contains(world.Log.Lines, l => l.Contains($"job {job.JobId}: VM blip-0 changed since it was offered (409 Conflict", StringComparison.Ordinal));
        var warning = await StuckEventAsync(world, job.JobId);
        Assert.Equal("JobStuckVmsClaimableButNotClaimed", warning.Reason);
        Assert.Contains("VMs claimable but not claimed (1 claimable in pool blip)", warning.Message);
        Assert.Empty(world.ClaimsOf(job.JobId));

        world.Sandbox.Kube.Faults.ReleaseWatches(plural);
        var done = await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed once the watch caught up", EndState.Long);
        Assert.Equal("success", done.Conclusion);
    }

    private static Task<k8s.Models.Corev1Event> StuckEventAsync(PipelineWorld world, long jobId) =>
        Deadline.UntilAsync(
            async () => (await world.Sandbox.KubeAdmin.CoreV1.ListNamespacedEventAsync("blip")).Items.FirstOrDefault(e =>
                e.Reason.StartsWith("JobStuck", StringComparison.Ordinal) && e.Message.StartsWith($"job {jobId} ", StringComparison.Ordinal))!,
            e => e is not null, EndState.Long, $"a JobStuck event for job {jobId}");
}
