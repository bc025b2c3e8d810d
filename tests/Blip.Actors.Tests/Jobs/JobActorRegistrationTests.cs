using System.Collections.Concurrent;
using Akka.Actor;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

/// <summary>What a job leaves on GitHub and which checks it keeps running, across a restart and across its cycles.</summary>
public sealed class JobActorRegistrationTests : JobActorHarness
{
    [Fact]
    public async Task A_job_recovered_into_provisioning_whose_vm_stops_before_the_sweep_deletes_the_registrations_left_before_the_stop()
    {
        await ProvisioningAsync();
        Watch(Job);
        Sys.Stop(Job);
        await ExpectTerminatedAsync(Job);
        // A registration the journal never heard of (the node died between generate-jitconfig and the record of it).
        GitHub.OnListRunners = _ => Task.FromResult<IReadOnlyList<RunnerInfo>>(
            [new RunnerInfo(90, "blip-42-0ddba11a", "offline", false, []), new RunnerInfo(91, "blip-43-0ddba11b", "offline", false, [])]);

        StartJob();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.GetVm>(m => Assert.Equal("vm-a", m.VmName)); // not swept yet
        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: false));

        await NextEventAsync<JobEvents.VmAbandoned>();
        Assert.Equal(JobOutcome.Abandoned, (await NextEventAsync<JobEvents.JobFinished>()).Outcome);
        await AwaitAssertAsync(() => Assert.Contains(90L, GitHub.Deleted), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(91L, GitHub.Deleted); // another job's
    }

    [Fact]
    public async Task A_runner_check_answered_after_its_cycle_ended_leaves_the_next_cycles_checks_running()
    {
        var checks = new ConcurrentQueue<long>();
        GitHub.OnGetRunner = id =>
        {
            checks.Enqueue(id);
            return checks.Count == 1
                ? new TaskCompletionSource<RunnerInfo?>().Task // the first check hangs; the test delivers its answer
                : Task.FromResult<RunnerInfo?>(new RunnerInfo(id, "r", "online", Busy: true, []));
        };
        await RunningAsync(o =>
        {
            o.RunnerCheckInterval = TimeSpan.FromMilliseconds(200);
            o.IdleRunnerGrace = TimeSpan.FromMilliseconds(200); // the first check waits for the grace
        });
        await AwaitConditionAsync(() => Task.FromResult(!checks.IsEmpty), TimeSpan.FromSeconds(30));

        // The VM stops while the check is in flight: the cycle ends, and the check's answer arrives in Done.
        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: false));
        await NextEventAsync<JobEvents.JobFinished>();
        await NextEventAsync<JobEvents.VmReleased>();
        Job.Tell(new JobInputs.RunnerChecked(77, null, null));
        Assert.Equal(JobPhase.Done, (await StatusWithNoNewEventAsync()).Phase);

        // Still queued at a later poll: a second cycle, whose runner must be checked (an idle one holds its VM otherwise).
        Job.Tell(Sighting(DateTimeOffset.UtcNow.AddSeconds(1)));
        await NextEventAsync<JobEvents.JobSighted>();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
        Inventory.Reply(new VmInventoryProtocol.VmOfJob(null));
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        Inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-b")));
        await NextEventAsync<JobEvents.VmClaimed>();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.GetVm>(m => Assert.Equal("vm-b", m.VmName));
        Inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-b", Id)));
        await NextEventAsync<JobEvents.RunnerRegistered>();
        await NextEventAsync<JobEvents.RunnerStarted>();

        await AwaitConditionAsync(() => Task.FromResult(checks.Count >= 2), TimeSpan.FromSeconds(30));
    }
}
