using Akka.Actor;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

/// <summary>
/// Reports that reach the job actor from a child it no longer listens to (stopped, replaced, or from an earlier phase):
/// they change nothing, and a VM they claimed is given back.
/// </summary>
public sealed class JobActorLateReplyTests : JobActorHarness
{
    [Fact]
    public async Task A_claim_reported_by_a_claimer_that_is_not_the_current_one_is_released_not_recorded()
    {
        await ClaimingAsync();
        var stale = CreateTestProbe();

        Job.Tell(new VmClaimer.Claimed("vm-late", DateTimeOffset.UtcNow), stale.Ref);

        Assert.Equal(JobPhase.Claiming, (await StatusWithNoNewEventAsync()).Phase);
        Assert.Equal(["vm-late"], Pool.Releases);
    }

    [Fact]
    public async Task A_claim_reported_after_the_job_moved_on_is_released_in_every_later_phase()
    {
        var stale = CreateTestProbe();
        await ProvisioningAsync();
        Job.Tell(new VmClaimer.Claimed("vm-late-1", DateTimeOffset.UtcNow), stale.Ref);
        Assert.Equal(JobPhase.Provisioning, (await StatusWithNoNewEventAsync()).Phase);

        ShellGate.SetResult();
        await NextEventAsync<JobEvents.RunnerStarted>();
        Job.Tell(new VmClaimer.Claimed("vm-late-2", DateTimeOffset.UtcNow), stale.Ref);
        Assert.Equal(JobPhase.Running, (await StatusWithNoNewEventAsync()).Phase);

        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: false));
        await NextEventAsync<JobEvents.JobFinished>();
        await NextEventAsync<JobEvents.VmReleased>();
        Job.Tell(new VmClaimer.Claimed("vm-late-3", DateTimeOffset.UtcNow), stale.Ref);
        var done = await StatusWithNoNewEventAsync();

        Assert.Equal(JobPhase.Done, done.Phase);
        Assert.Equal("vm-a", done.VmName);
        Assert.Equal(["vm-late-1", "vm-late-2", "vm-a", "vm-late-3"], Pool.Releases);
    }

    [Fact]
    public async Task Bootstrapper_reports_from_anyone_but_the_current_bootstrapper_are_ignored()
    {
        await ProvisioningAsync();
        var before = await StatusAsync();
        var stale = CreateTestProbe();

        Job.Tell(new RunnerBootstrapper.Registered(999, "blip-42-stale"), stale.Ref);
        Job.Tell(new RunnerBootstrapper.Started(DateTimeOffset.UtcNow), stale.Ref);
        Job.Tell(new RunnerBootstrapper.JitFailed("stale"), stale.Ref);
        Job.Tell(new RunnerBootstrapper.GaveUpOnVm("stale"), stale.Ref);

        var after = await StatusWithNoNewEventAsync();
        Assert.Equal(before, after);
        Assert.Empty(Pool.Releases);
    }

    [Fact]
    public async Task Bootstrapper_reports_arriving_in_claiming_running_or_done_are_ignored()
    {
        var claimer = await ClaimingAsync();
        var stale = CreateTestProbe();
        Job.Tell(new RunnerBootstrapper.Started(DateTimeOffset.UtcNow), claimer);
        Job.Tell(new RunnerBootstrapper.GaveUpOnVm("late"), stale.Ref);
        Assert.Equal(JobPhase.Claiming, (await StatusWithNoNewEventAsync()).Phase);

        Inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));
        await NextEventAsync<JobEvents.VmClaimed>();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.GetVm>();
        Inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-a", Id)));
        await NextEventAsync<JobEvents.RunnerRegistered>();
        var bootstrapper = await ChildAsync("bootstrap-");
        ShellGate.SetResult();
        await NextEventAsync<JobEvents.RunnerStarted>();

        // The bootstrapper that started the runner reports again after the job is Running: nothing changes.
        Job.Tell(new RunnerBootstrapper.GaveUpOnVm("late"), bootstrapper);
        Job.Tell(new RunnerBootstrapper.JitFailed("late"), bootstrapper);
        Assert.Equal(JobPhase.Running, (await StatusWithNoNewEventAsync()).Phase);
        Assert.Empty(Pool.Releases);
    }

    [Fact]
    public async Task A_stopped_bootstrappers_runner_start_does_not_count_for_the_vm_claimed_after_it()
    {
        var first = await ProvisioningAsync();
        Watch(first);
        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: true));
        await NextEventAsync<JobEvents.VmAbandoned>();
        await ExpectTerminatedAsync(first);
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
        Inventory.Reply(new VmInventoryProtocol.VmOfJob(null));
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        Inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-b")));
        Assert.Equal("vm-b", (await NextEventAsync<JobEvents.VmClaimed>()).VmName);

        // The first bootstrapper's "started" (for vm-a) arrives only now.
        Job.Tell(new RunnerBootstrapper.Started(DateTimeOffset.UtcNow), first);

        var status = await StatusWithNoNewEventAsync();
        Assert.Equal(JobPhase.Provisioning, status.Phase);
        Assert.Equal("vm-b", status.VmName);
    }

    [Fact]
    public async Task A_claim_landing_after_the_job_left_the_queue_is_released_when_the_janitor_finds_it()
    {
        var landing = new TaskCompletionSource<ClaimOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        Pool.OnClaim = _ => landing.Task;
        var claimer = await ClaimingAsync();
        Watch(claimer);
        Inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));
        await AwaitConditionAsync(() => Task.FromResult(!Pool.Claims.IsEmpty), TimeSpan.FromSeconds(30));

        Job.Tell(new JobCommands.LeftQueue(new JobId(Id), SightedAt.AddSeconds(1)));
        await NextEventAsync<JobEvents.JobFinished>();
        await ExpectTerminatedAsync(claimer);
        landing.SetResult(ClaimOutcome.Claimed); // the claim's reply goes to a stopped claimer: nobody records it

        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-a"));

        Assert.Equal(JobPhase.Done, (await StatusWithNoNewEventAsync()).Phase);
        Assert.Equal(["vm-a"], Pool.Releases);
    }
}
