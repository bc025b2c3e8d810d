using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>What the Janitor's reconcile does with VMs that carry a job's session.</summary>
public sealed class ReconcileTests
{
    [Fact]
    public async Task A_vm_of_the_job_already_marked_for_release_is_deleted_not_adopted_and_the_job_runs_on_a_fresh_one()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var vm = world.Sandbox.Pool.Vms[0].Name;
        var hostKey = await VmEdits.AnnotationAsync(world, vm, "blip.io/host-key");
        // Without its host key the only VM is not claimable: the job waits in Claiming.
        await VmEdits.MergeAnnotationsAsync(world, vm, """{"blip.io/host-key":null}""");
        await world.StartControllerAsync(o => o.ReconcileInterval = TimeSpan.FromSeconds(1));
        var job = (await EndState.QueueAsync(world, 1))[0];
        await Deadline.UntilAsync(() => Task.FromResult(world.Log.Contains($"job {job} (org/repo): failed to allocate runner VM")), ok => ok, EndState.Long, "the job waiting for a VM");

        // What a crash between the release mark and the delete leaves: the job's session, and blip.io/release=true.
        await VmEdits.MergeAnnotationsAsync(world, vm, $$"""
            {"blip.io/host-key":"{{hostKey}}","blip.io/session-id":"actions-{{job}}","blip.io/claimed-at":"{{DateTimeOffset.UtcNow:O}}",
             "blip.io/release":"true"}
            """);

        await Deadline.UntilAsync(
            () => Task.FromResult(world.Sandbox.VmAudit().Any(a => a.Name == vm && a.Verb == "delete")),
            deleted => deleted, EndState.Long, "the released VM deleted");
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains($"VM {vm} already carries this job's session; adopting it"));
        Assert.Contains(world.Log.Lines, l => l.Contains($"job {job}: VM {vm} carries this job's session but is marked blip.io/release"));

        // The pool's replacement serves the job; nothing ran on the released VM.
        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, [job]);
    }
}
