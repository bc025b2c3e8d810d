using Akka.Actor;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

/// <summary>The job actor, phase by phase, against each input it can receive there.</summary>
public sealed class JobActorTests : JobActorHarness
{
    private JobCommands.LeftQueue LeftQueue(double secondsAfterSighting) => new(new JobId(Id), SightedAt.AddSeconds(secondsAfterSighting));

    [Fact]
    public async Task New_a_sighting_records_the_job_and_starts_claiming()
    {
        var claimer = await ClaimingAsync();

        Assert.Equal(JobPhase.Claiming, (await StatusAsync()).Phase);
        Assert.Contains("claim-", claimer.Path.Name);
    }

    [Fact]
    public async Task New_leaving_the_queue_a_stopped_vm_or_a_webhook_completion_change_nothing()
    {
        StartJob();

        Job.Tell(LeftQueue(1));
        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: true));
        Job.Tell(new JobCommands.RunnerJobCompleted(new JobId(Id), "blip-42-x", 99));

        Assert.Equal(JobPhase.New, (await StatusWithNoNewEventAsync()).Phase);
        Assert.Empty(Pool.Releases);
    }

    [Fact]
    public async Task New_a_vm_claimed_for_a_job_with_no_record_is_released()
    {
        StartJob();

        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-x"));

        Assert.Equal(JobPhase.New, (await StatusWithNoNewEventAsync()).Phase);
        Assert.Equal(["vm-x"], Pool.Releases);
    }

    [Fact]
    public async Task Claiming_a_duplicate_sighting_records_nothing()
    {
        await ClaimingAsync();

        Job.Tell(Sighting(SightedAt.AddSeconds(1)));

        Assert.Equal(JobPhase.Claiming, (await StatusWithNoNewEventAsync()).Phase);
    }

    [Fact]
    public async Task Claiming_leaving_the_queue_by_a_later_poll_ends_the_cycle_and_stops_the_claimer()
    {
        var claimer = await ClaimingAsync();
        Watch(claimer);

        Job.Tell(LeftQueue(1));

        Assert.Equal(JobOutcome.Abandoned, (await NextEventAsync<JobEvents.JobFinished>()).Outcome);
        await ExpectTerminatedAsync(claimer);
        Assert.Equal(JobPhase.Done, (await StatusAsync()).Phase);
    }

    [Fact]
    public async Task Claiming_leaving_the_queue_by_a_poll_older_than_the_sighting_is_ignored()
    {
        await ClaimingAsync();

        Job.Tell(LeftQueue(-1));

        Assert.Equal(JobPhase.Claiming, (await StatusWithNoNewEventAsync()).Phase);
    }

    [Fact]
    public async Task Claiming_a_vm_found_carrying_the_jobs_session_is_adopted_and_the_claimer_stopped()
    {
        var claimer = await ClaimingAsync();
        Watch(claimer);

        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-r", "2026-11-30T12:00:00Z"));

        // The state the adoption left, not a later status: the bootstrapper it starts may already have moved on
        // (a loaded run gave the unknown VM up before the status was asked).
        var published = await Events.ExpectMsgAsync<JobEventPublished>(TimeSpan.FromSeconds(30));
        Assert.Equal("vm-r", Assert.IsType<JobEvents.VmClaimed>(published.Event).VmName);
        Assert.Equal(JobPhase.Provisioning, published.State.Phase);
        await ExpectTerminatedAsync(claimer);
    }

    [Fact]
    public async Task Claiming_a_vm_of_the_job_already_marked_for_release_is_finished_off_not_adopted()
    {
        await ClaimingAsync();

        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-r", "2026-11-30T12:00:00Z", FakeVmPool.UidOf("vm-r"), ReleaseRequested: true));

        // The status query is answered after the reconcile was handled: no claim event, still claiming, the VM released.
        Assert.Equal(JobPhase.Claiming, (await StatusWithNoNewEventAsync()).Phase);
        await AwaitAssertAsync(() => Assert.Contains("vm-r", Pool.Releases));
    }

    [Fact]
    public async Task Claiming_a_stopped_vm_or_a_webhook_completion_change_nothing()
    {
        await ClaimingAsync();

        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: true));
        Job.Tell(new JobCommands.RunnerJobCompleted(new JobId(Id), "blip-42-x", 99));

        Assert.Equal(JobPhase.Claiming, (await StatusWithNoNewEventAsync()).Phase);
    }

    [Fact]
    public async Task Provisioning_registers_a_runner_named_for_the_job_and_starts_it_on_the_claimed_vm()
    {
        await ProvisioningAsync();

        var status = await StatusAsync();
        Assert.Equal(JobPhase.Provisioning, status.Phase);
        Assert.Equal("vm-a", status.VmName);
        Assert.StartsWith("blip-42-", status.RunnerName);
        Assert.Equal(["vm-a"], Shell.Started);
    }

    [Fact]
    public async Task Provisioning_the_vm_deleted_before_the_runner_started_is_given_up_released_and_never_adopted_again()
    {
        var bootstrapper = await ProvisioningAsync();
        Watch(bootstrapper);

        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: true));

        Assert.Equal("vm-a", (await NextEventAsync<JobEvents.VmAbandoned>()).VmName);
        await ExpectTerminatedAsync(bootstrapper);
        await AwaitAssertAsync(() => Assert.Contains("vm-a", Pool.Releases)); // released after the event is written, the child stopped before
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>(); // a new claimer
        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-a", VmUid: FakeVmPool.UidOf("vm-a")));
        Assert.Equal(JobPhase.Claiming, (await StatusWithNoNewEventAsync()).Phase);
    }

    [Fact]
    public async Task Provisioning_the_vm_powered_off_before_the_runner_was_recorded_ends_the_cycle_and_claims_again_only_when_sighted()
    {
        // Found by ClusterTests: after a node died between a runner's start and its record, the recovered job saw its VM
        // stopped (the runner had run its job and powered the VM off) and claimed another VM for a job long completed.
        var bootstrapper = await ProvisioningAsync();
        Watch(bootstrapper);

        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: false));

        Assert.Equal("vm-a", (await NextEventAsync<JobEvents.VmAbandoned>()).VmName);
        Assert.Equal(JobOutcome.Abandoned, (await NextEventAsync<JobEvents.JobFinished>()).Outcome);
        await ExpectTerminatedAsync(bootstrapper);
        await AwaitAssertAsync(() => Assert.Contains("vm-a", Pool.Releases)); // released after the event is written, the child stopped before
        Assert.Equal(JobPhase.Done, (await StatusWithNoNewEventAsync()).Phase);
        Assert.False(Inventory.HasMessages, "a new claimer asked the inventory for a VM");

        // Still queued at a later poll: taken up again.
        Job.Tell(Sighting(DateTimeOffset.UtcNow.AddSeconds(1)));
        await NextEventAsync<JobEvents.JobSighted>();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
    }

    [Fact]
    public async Task Provisioning_a_permanent_jit_error_finishes_the_job_failed_and_releases_the_vm()
    {
        GitHub.OnJit = _ => Task.FromException<JitRunner>(new GitHubCallException("generate-jitconfig", System.Net.HttpStatusCode.Unauthorized));
        await ClaimingAsync();
        Inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));
        await NextEventAsync<JobEvents.VmClaimed>();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.GetVm>();
        Inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-a", Id)));

        Assert.Equal(JobOutcome.Failed, (await NextEventAsync<JobEvents.JobFinished>()).Outcome);
        await NextEventAsync<JobEvents.VmReleased>();
        Assert.Equal(["vm-a"], Pool.Releases);
        Assert.Equal(JobPhase.Done, (await StatusAsync()).Phase);
    }

    [Fact]
    public async Task Provisioning_past_the_hard_cap_expires_the_job_and_releases_the_vm()
    {
        await ProvisioningAsync(o => o.MaxDurationSeconds = 1);

        Assert.Equal(JobOutcome.Expired, (await NextEventAsync<JobEvents.JobFinished>()).Outcome);
        await NextEventAsync<JobEvents.VmReleased>();
        Assert.Equal(["vm-a"], Pool.Releases);
    }

    [Fact]
    public async Task Provisioning_and_running_a_reconcile_of_our_vm_changes_nothing_and_of_another_vm_releases_that_one()
    {
        await ProvisioningAsync();
        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-a"));
        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-second"));
        Assert.Equal(JobPhase.Provisioning, (await StatusWithNoNewEventAsync()).Phase);

        ShellGate.SetResult();
        await NextEventAsync<JobEvents.RunnerStarted>();
        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-a"));
        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-third"));

        Assert.Equal(JobPhase.Running, (await StatusWithNoNewEventAsync()).Phase);
        Assert.Equal(["vm-second", "vm-third"], Pool.Releases);
    }

    [Fact]
    public async Task Restarted_mid_provisioning_it_recovers_from_the_journal_and_provisions_again_sweeping_stale_runners()
    {
        var bootstrapper = await ProvisioningAsync();
        Watch(Job);
        Sys.Stop(Job);
        await ExpectTerminatedAsync(Job);

        StartJob(); // the same persistence id: the journal says Provisioning on vm-a with a runner registered

        var status = await StatusAsync();
        Assert.Equal(JobPhase.Provisioning, status.Phase);
        Assert.Equal("vm-a", status.VmName);
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.GetVm>(m => Assert.Equal("vm-a", m.VmName));
        Assert.NotEqual(bootstrapper.Path, (await ChildAsync("bootstrap-")).Path);
    }

    [Fact]
    public async Task Running_a_webhook_saying_our_runner_completed_a_job_finishes_it()
    {
        await RunningAsync();
        var runner = (await StatusAsync()).RunnerName!;

        Job.Tell(new JobCommands.RunnerJobCompleted(new JobId(Id), "blip-42-someone-else", 99));
        Assert.Equal(JobPhase.Running, (await StatusWithNoNewEventAsync()).Phase);
        Job.Tell(new JobCommands.RunnerJobCompleted(new JobId(Id), runner, 99));

        var finished = await NextEventAsync<JobEvents.JobFinished>();
        Assert.Equal(JobOutcome.Completed, finished.Outcome);
        await NextEventAsync<JobEvents.VmReleased>();
        Assert.Equal(JobPhase.Done, (await StatusAsync()).Phase);
    }

    [Fact]
    public async Task Running_the_vm_stopping_completes_the_job_and_another_vms_stop_does_not()
    {
        await RunningAsync();

        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-other", Deleted: false));
        Assert.Equal(JobPhase.Running, (await StatusWithNoNewEventAsync()).Phase);
        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: false));

        Assert.Equal(JobOutcome.Completed, (await NextEventAsync<JobEvents.JobFinished>()).Outcome);
        await NextEventAsync<JobEvents.VmReleased>();
    }

    [Fact]
    public async Task Running_the_runner_check_finding_the_runner_deregistered_completes_the_job()
    {
        GitHub.OnGetRunner = _ => Task.FromResult<RunnerInfo?>(null);
        await RunningAsync(o =>
        {
            o.RunnerCheckInterval = TimeSpan.FromMilliseconds(200);
            o.IdleRunnerGrace = TimeSpan.FromMilliseconds(200); // the first check waits for the grace
        });

        var finished = await NextEventAsync<JobEvents.JobFinished>();

        Assert.Equal(JobOutcome.Completed, finished.Outcome);
        Assert.Equal("runner deregistered", finished.Reason);
    }

    [Fact]
    public async Task Running_leaving_the_queue_records_the_job_started_once_and_a_duplicate_sighting_changes_nothing()
    {
        await RunningAsync();

        Job.Tell(LeftQueue(5));
        var started = await NextEventAsync<JobEvents.RunnerJobStarted>();
        Job.Tell(LeftQueue(6));
        Job.Tell(Sighting(SightedAt.AddSeconds(6)));

        Assert.Equal(new JobEvents.RunnerJobStarted(SightedAt.AddSeconds(5)), started);
        Assert.Equal(JobPhase.Running, (await StatusWithNoNewEventAsync()).Phase);
    }

    [Fact]
    public async Task Running_our_runners_in_progress_delivery_is_recorded_once_and_another_runners_not_at_all()
    {
        await RunningAsync();
        var runner = (await StatusAsync()).RunnerName!;

        Job.Tell(new JobCommands.RunnerJobStarted(new JobId(Id), "blip-42-someone-else", 98, SightedAt.AddSeconds(2)));
        Job.Tell(new JobCommands.RunnerJobStarted(new JobId(Id), runner, 99, SightedAt.AddSeconds(3)));
        var started = await NextEventAsync<JobEvents.RunnerJobStarted>();
        Job.Tell(new JobCommands.RunnerJobStarted(new JobId(Id), runner, 99, SightedAt.AddSeconds(3))); // redelivered

        Assert.Equal(new JobEvents.RunnerJobStarted(SightedAt.AddSeconds(3), 99), started);
        Assert.Equal(JobPhase.Running, (await StatusWithNoNewEventAsync()).Phase);
    }

    [Fact]
    public async Task Releasing_a_failed_release_is_retried_until_the_vm_is_released()
    {
        var attempts = 0;
        Pool.OnRelease = _ => Interlocked.Increment(ref attempts) == 1 ? Task.FromException(new HttpRequestException("503")) : Task.CompletedTask;
        await RunningAsync();

        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: false));

        await NextEventAsync<JobEvents.JobFinished>();
        await NextEventAsync<JobEvents.VmReleased>();
        Assert.Equal(["vm-a", "vm-a"], Pool.Releases);
    }

    [Fact]
    public async Task Done_a_sighting_from_a_poll_sent_before_the_end_and_every_signal_change_nothing()
    {
        await DoneAsync();

        Job.Tell(Sighting()); // the poll that started the job, delivered late
        Job.Tell(LeftQueue(2));
        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: true));

        Assert.Equal(JobPhase.Done, (await StatusWithNoNewEventAsync()).Phase);
    }

    [Fact]
    public async Task Done_a_sighting_from_a_poll_sent_after_the_end_takes_the_job_up_again()
    {
        await DoneAsync();

        Job.Tell(Sighting(DateTimeOffset.UtcNow.AddSeconds(1)));

        await NextEventAsync<JobEvents.JobSighted>();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
        Assert.Equal(JobPhase.Claiming, (await StatusAsync()).Phase);
    }

    [Fact]
    public async Task Done_a_vm_still_carrying_the_jobs_session_is_released()
    {
        await DoneAsync();

        Job.Tell(new JobCommands.Reconcile(new JobId(Id), "vm-b"));

        Assert.Equal(JobPhase.Done, (await StatusWithNoNewEventAsync()).Phase);
        Assert.Contains("vm-b", Pool.Releases);
    }
}
