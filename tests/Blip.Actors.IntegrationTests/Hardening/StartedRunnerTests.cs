using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.Pool;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>A runner that started is never killed by a retry: the channel broke after run.sh started, the retry finds
/// run.sh's lock held (or GitHub shows the runner online), and the VM is kept for the job.</summary>
public sealed class StartedRunnerTests
{
    [Fact]
    public async Task A_channel_that_breaks_after_run_sh_started_keeps_the_vm_and_the_job_runs_on_it()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var vm = world.Sandbox.Pool.Vms[0];
        await world.Sandbox.Pool.SetMisbehaviourAsync(vm.Name, VmMisbehaviour.DropChannelAfterStart);
        await world.StartControllerAsync();

        // Longer than all SSH retries together: a VM given up would be deleted under the runner working on the job.
        var jobs = await EndState.QueueAsync(world, 1, durationSeconds: 15);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        Assert.True(File.Exists(Path.Combine(vm.HomeDir, ".channel-dropped")), "the first session's channel was dropped");
        Assert.Contains(world.Log.Lines, l => l.Contains($"VM {vm.Name}: the channel closed before the start command reported its exit status")
            || l.Contains($"VM {vm.Name}: connection lost while starting the runner"));
        var claim = Assert.Single(world.ClaimsOf(jobs[0]));
        Assert.Equal(vm.Name, claim.Name);
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains($"giving VM {vm.Name} up"));
        // The job's runner (one registration only) ran on the VM whose channel broke.
        var runner = Assert.Single(await world.GitHub.ListRunnersAsync(all: true));
        Assert.Equal(jobs[0], runner.JobId);
    }
}
