using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Completion follows the runner, not the job id (DESIGN.md §3).</summary>
public sealed class CompletionTests
{
    [Fact]
    public async Task A_runner_that_ran_another_job_frees_its_vm_when_done_and_its_own_job_gets_a_new_runner()
    {
        // B is older and does not match runner-labels, so we never make a runner for it; A's runner (registered
        // with A's labels, a superset of B's) is given B by GitHub's rule: oldest queued job its labels cover.
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var b = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted"], durationSeconds: 2);
        await world.StartControllerAsync();
        var a = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        var bDone = await world.WaitForJobAsync(b.JobId, j => j.Status == "completed", "B run by A's first runner");
        var aDone = await world.WaitForJobAsync(a.JobId, j => j.Status == "completed", "A run by a second runner");

        Assert.StartsWith($"blip-{a.JobId}-", bDone.RunnerName);
        Assert.StartsWith($"blip-{a.JobId}-", aDone.RunnerName);
        Assert.NotEqual(bDone.RunnerName, aDone.RunnerName);
        var claims = world.ClaimsOf(a.JobId);
        Assert.Equal(2, claims.Count);
        // The first VM was released only after the runner on it finished B.
        var firstDelete = world.Sandbox.VmAudit().First(x => x.Uid == claims[0].Uid && x.Verb == "delete").Time;
        Assert.True(firstDelete >= bDone.CompletedAt, $"VM {claims[0].Name} deleted {firstDelete:O} before B completed {bDone.CompletedAt:O}");
        Assert.Empty(world.ClaimsOf(b.JobId));
        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, PipelineWorld.Deadline, "no VM left claimed");
    }

    [Fact]
    public async Task A_runner_left_idle_because_its_job_was_cancelled_is_deregistered_and_its_vm_released()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync();
        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 30);
        await Deadline.UntilAsync(() => Task.FromResult(world.ClaimsOf(job.JobId).Count), n => n == 1, PipelineWorld.Deadline, "claimed");
        await world.GitHub.CancelJobAsync(job.JobId);

        var claim = world.ClaimsOf(job.JobId)[0];
        await Deadline.UntilAsync(() => Task.FromResult(world.Sandbox.VmAudit().Any(x => x.Uid == claim.Uid && x.Verb == "delete")), ok => ok, PipelineWorld.Deadline, "VM released");

        var runners = await world.GitHub.ListRunnersAsync(all: true);
        Assert.All(runners, r => Assert.NotNull(r.RemovedAt));
        Assert.Empty(await world.GitHub.ListRunnersAsync());
        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, PipelineWorld.Deadline, "no VM left claimed");
    }
}
