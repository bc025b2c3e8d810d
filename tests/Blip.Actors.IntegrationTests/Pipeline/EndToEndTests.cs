using Blip.Actors.IntegrationTests.Harness;
using k8s;

namespace Blip.Actors.IntegrationTests.Pipeline;

public sealed class EndToEndTests
{
    [Fact]
    public async Task Queued_matching_job_gets_one_runner_and_its_vm_is_released()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        await world.StartControllerAsync();

        var queued = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        var job = await world.WaitForJobAsync(queued.JobId, j => j.Status == "completed", "completed by a runner");
        Assert.Equal("success", job.Conclusion);
        Assert.StartsWith($"blip-{queued.JobId}-", job.RunnerName);

        // Exactly one claim for this job, carrying every annotation of the design.
        var claim = Assert.Single(world.ClaimsOf(queued.JobId));
        Assert.Equal("org/repo", claim.Annotations["blip.io/runner-repo"]);
        Assert.Equal(queued.JobId.ToString(), claim.Annotations["blip.io/runner-job-id"]);
        Assert.Equal("actions:org/repo", claim.Annotations["blip.io/user"]);
        Assert.Equal("1800", claim.Annotations["blip.io/max-duration"]);
        Assert.Equal("true", claim.Annotations["blip.io/ephemeral"]);
        Assert.Equal("test-node-0", claim.Annotations["blip.io/claimed-by"]);

        // Provisioned, then released and deleted; the pool replaces it.
        await Deadline.UntilAsync(
            () => Task.FromResult(world.Sandbox.VmAudit().Where(a => a.Uid == claim.Uid).Select(a => a.Verb + (a.Annotations.ContainsKey("blip.io/release") ? "+release" : "")).ToList()),
            verbs => verbs.Contains("delete+release"),
            PipelineWorld.Deadline,
            $"VM {claim.Name} released and deleted");
        var history = world.Sandbox.VmAudit().Where(a => a.Uid == claim.Uid).ToList();
        Assert.Contains(history, a => a.Annotations.GetValueOrDefault("blip.io/runner-provisioned") == "true");
        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, PipelineWorld.Deadline, "no VM left claimed");
        await world.Sandbox.Pool.WaitForReadyAsync(2, PipelineWorld.Deadline);

        // The VM's story as Kubernetes Events (what kubectl describe vm shows).
        var reasons = await Deadline.UntilAsync(
            async () => (await world.Sandbox.KubeAdmin.CoreV1.ListNamespacedEventAsync("blip")).Items
                .Where(e => e.InvolvedObject.Name == claim.Name && e.InvolvedObject.Uid == claim.Uid && e.InvolvedObject.Kind == "VirtualMachine")
                .OrderBy(e => e.LastTimestamp).Select(e => e.Reason).ToList(),
            r => r.Contains("Releasing"),
            PipelineWorld.Deadline,
            "events on the VM");
        Assert.Equal(["Claimed", "RunnerStarted", "Releasing"], reasons);

        // The ephemeral runner is gone; the pickup latency was logged.
        var runners = await world.GitHub.ListRunnersAsync();
        Assert.DoesNotContain(runners, r => r.Name == job.RunnerName);
        Assert.True(world.Log.Contains("pickup latency"), "pickup latency logged");
    }
}
