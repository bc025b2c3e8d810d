using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

public sealed class JobStateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly RepoName Repo = new("org", "repo");

    private static JobCommands.Sighted Sighting(long id = 42) =>
        new(new JobId(id), Repo, ["self-hosted", "blip"], 7, Now.AddSeconds(-3), Now);

    private static JobState Replay(params IJobEvent[] events) => events.Aggregate(JobState.Empty, (s, e) => s.Apply(e));

    [Fact]
    public void First_sighting_records_the_job_and_starts_claiming()
    {
        var events = JobState.Empty.OnSighted(Sighting(), Now);

        var state = Replay([.. events]);
        Assert.Equal(JobPhase.Claiming, state.Phase);
        Assert.Equal(42, state.JobId);
        Assert.Equal(Repo, state.Repo);
        Assert.Equal(["self-hosted", "blip"], state.Labels.ToArray());
    }

    [Fact]
    public void Duplicate_sighting_in_any_later_phase_records_nothing()
    {
        // Every event before the poll behind the sighting was sent, but the finish: Done is a tombstone for a sighting
        // from a poll sent before the job finished (one sent after it is the exception, see the retake tests below),
        // and a permanent failure stays done whatever the poll.
        var then = Now.AddHours(-1);
        var sighted = Replay([.. JobState.Empty.OnSighted(Sighting(), then)]);
        var claimed = sighted.Apply(new JobEvents.VmClaimed("vm-1", then));
        var registered = claimed.Apply(new JobEvents.RunnerRegistered(5, "r"));
        var running = registered.Apply(new JobEvents.RunnerStarted(then));
        var releasing = running.Apply(new JobEvents.JobFinished(JobOutcome.Completed, "x", Now.AddSeconds(1)));
        var doneCompleted = releasing.Apply(new JobEvents.VmReleased("vm-1", Now.AddSeconds(2)));
        var doneFailed = claimed.Apply(new JobEvents.JobFinished(JobOutcome.Failed, "x", then)).Apply(new JobEvents.VmReleased("vm-1", then));
        var states = new[] { sighted, claimed, registered, running, releasing, doneCompleted, doneFailed };

        Assert.Equal(Enum.GetValues<JobPhase>().Where(p => p != JobPhase.New), states.Select(s => s.Phase).Distinct().Order());
        foreach (var state in states)
        {
            Assert.True(state.OnSighted(Sighting(), Now).Count == 0, $"a duplicate sighting in {state.Phase} ({state.Outcome}) recorded something");
        }
    }

    [Fact]
    public void Full_lifecycle_ends_done_with_the_vm_released()
    {
        var state = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now),
            new JobEvents.RunnerRegistered(5, "blip-42-abc"),
            new JobEvents.RunnerStarted(Now.AddSeconds(2)));
        Assert.Equal(JobPhase.Running, state.Phase);
        Assert.True(state.HoldsVm);

        state = state.Apply(new JobEvents.JobFinished(JobOutcome.Completed, "runner finished", Now));
        Assert.Equal(JobPhase.Releasing, state.Phase);

        state = state.Apply(new JobEvents.VmReleased("vm-1", Now));
        Assert.Equal(JobPhase.Done, state.Phase);
        Assert.False(state.HoldsVm);
        Assert.Equal(JobOutcome.Completed, state.Outcome);
    }

    [Fact]
    public void Finishing_without_a_vm_goes_straight_to_done()
    {
        var state = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.JobFinished(JobOutcome.Abandoned, "left the queue", Now));

        Assert.Equal(JobPhase.Done, state.Phase);
    }

    [Fact]
    public void An_abandoned_vm_sends_the_job_back_to_claiming_without_its_runner()
    {
        var state = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now),
            new JobEvents.RunnerRegistered(5, "r"),
            new JobEvents.VmAbandoned("vm-1", "host key mismatch"));

        Assert.Equal(JobPhase.Claiming, state.Phase);
        Assert.Null(state.VmName);
        Assert.Null(state.RunnerId);
        Assert.Equal(1, state.VmsAbandoned);
    }

    [Fact]
    public void Vm_stopped_after_the_runner_started_completes_the_job()
    {
        var running = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now),
            new JobEvents.RunnerStarted(Now));

        var events = running.OnVmStopped(new JobCommands.VmStopped(new JobId(42), "vm-1", Deleted: false), Now);

        var finished = Assert.IsType<JobEvents.JobFinished>(Assert.Single(events));
        Assert.Equal(JobOutcome.Completed, finished.Outcome);
    }

    [Fact]
    public void Vm_deleted_before_the_runner_started_abandons_that_vm()
    {
        var provisioning = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now));

        var events = provisioning.OnVmStopped(new JobCommands.VmStopped(new JobId(42), "vm-1", Deleted: true), Now);

        Assert.IsType<JobEvents.VmAbandoned>(Assert.Single(events));
    }

    [Fact]
    public void A_vm_deleted_before_the_runner_started_is_claimed_again_at_once_a_stopped_one_only_when_sighted_again()
    {
        Assert.True(JobState.ClaimsAgainAfter(new JobCommands.VmStopped(new JobId(42), "vm-1", Deleted: true)));
        Assert.False(JobState.ClaimsAgainAfter(new JobCommands.VmStopped(new JobId(42), "vm-1", Deleted: false)));

        var provisioning = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now));
        var events = provisioning.OnVmGivenUp("vm-1", "VM stopped before the runner started", maxVmsGivenUp: 5, Now, claimAgain: false);

        Assert.IsType<JobEvents.VmAbandoned>(events[0]);
        Assert.Equal(JobOutcome.Abandoned, Assert.IsType<JobEvents.JobFinished>(events[1]).Outcome);
        var done = events.Aggregate(provisioning, (state, e) => state.Apply(e));
        Assert.Equal(JobPhase.Done, done.Phase);
        Assert.Equal(1, done.VmsAbandoned);
        Assert.NotEmpty(done.OnSighted(Sighting() with { ObservedAt = Now.AddSeconds(1) }, Now.AddSeconds(1)));
    }

    [Fact]
    public void Stop_signal_for_another_vm_is_ignored()
    {
        var running = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now),
            new JobEvents.RunnerStarted(Now));

        Assert.Empty(running.OnVmStopped(new JobCommands.VmStopped(new JobId(42), "vm-2", false), Now));
    }

    [Fact]
    public void Hard_cap_is_claimed_at_plus_max_duration()
    {
        var state = Replay(
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now));

        Assert.Equal(Now.AddSeconds(1800), state.HardCapAt(1800));
    }

    [Fact]
    public void Leaving_the_queue_while_claiming_ends_the_cycle_without_a_vm()
    {
        var claiming = Replay([.. JobState.Empty.OnSighted(Sighting(), Now)]);

        var state = Replay([.. JobState.Empty.OnSighted(Sighting(), Now), .. claiming.OnLeftQueue(Now)]);

        Assert.Equal(JobPhase.Done, state.Phase);
        Assert.Equal(JobOutcome.Abandoned, state.Outcome);
        // Seen queued again by a later poll (cancelled and re-run, or a listing that missed it): taken up again.
        Assert.NotEmpty(state.OnSighted(Sighting() with { ObservedAt = Now.AddSeconds(1) }, Now.AddSeconds(1)));
    }

    [Fact]
    public void Leaving_the_queue_once_a_vm_is_claimed_changes_nothing()
    {
        var claimed = Replay([.. JobState.Empty.OnSighted(Sighting(), Now)]).Apply(new JobEvents.VmClaimed("vm-1", Now));
        var running = claimed.Apply(new JobEvents.RunnerRegistered(5, "r")).Apply(new JobEvents.RunnerStarted(Now));

        Assert.Empty(claimed.OnLeftQueue(Now));
        Assert.Empty(running.OnLeftQueue(Now));
        Assert.Empty(JobState.Empty.OnLeftQueue(Now));
    }

    [Fact]
    public void A_vm_given_up_below_the_cap_is_abandoned_and_the_job_claims_another()
    {
        var provisioning = Replay([.. JobState.Empty.OnSighted(Sighting(), Now), new JobEvents.VmClaimed("vm-1", Now)]);

        var state = Replay([.. JobState.Empty.OnSighted(Sighting(), Now), new JobEvents.VmClaimed("vm-1", Now), .. provisioning.OnVmGivenUp("vm-1", "ssh", 3, Now)]);

        Assert.Equal(JobPhase.Claiming, state.Phase);
        Assert.Equal(["vm-1"], state.AbandonedVms.ToArray());
    }

    [Fact]
    public void The_vm_that_reaches_the_cap_fails_the_job_instead_of_claiming_another()
    {
        IJobEvent[] history = [.. JobState.Empty.OnSighted(Sighting(), Now), new JobEvents.VmClaimed("vm-1", Now), new JobEvents.VmAbandoned("vm-1", "ssh"), new JobEvents.VmClaimed("vm-2", Now)];
        var provisioning = Replay(history);

        var events = provisioning.OnVmGivenUp("vm-2", "ssh again", 2, Now);

        var state = Replay([.. history, .. events]);
        Assert.Equal(JobPhase.Done, state.Phase);
        Assert.Equal(JobOutcome.Failed, state.Outcome);
        Assert.Contains("gave up 2 VMs (Blip:MaxVmsGivenUpPerJob)", state.Reason, StringComparison.Ordinal);
        Assert.Empty(state.OnSighted(Sighting() with { ObservedAt = Now.AddMinutes(5) }, Now.AddMinutes(5)));
    }

    [Fact]
    public void Giving_up_a_vm_the_job_no_longer_holds_changes_nothing()
    {
        var provisioning = Replay([.. JobState.Empty.OnSighted(Sighting(), Now), new JobEvents.VmClaimed("vm-2", Now)]);

        Assert.Empty(provisioning.OnVmGivenUp("vm-1", "late", 5, Now));
    }
}

public sealed class JobStateRetakeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static JobState Finished(JobOutcome outcome) =>
        new IJobEvent[]
        {
            new JobEvents.JobSighted(42, "org/repo", ["blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now),
            new JobEvents.RunnerStarted(Now),
            new JobEvents.JobFinished(outcome, "x", Now.AddSeconds(10)),
            new JobEvents.VmReleased("vm-1", Now.AddSeconds(11)),
        }.Aggregate(JobState.Empty, (s, e) => s.Apply(e));

    private static JobCommands.Sighted SeenAt(DateTimeOffset at) =>
        new(new JobId(42), new RepoName("org", "repo"), ["blip"], 7, Now, at);

    [Fact]
    public void A_sighting_from_a_poll_sent_after_our_runner_finished_takes_the_job_up_again()
    {
        var done = Finished(JobOutcome.Completed);

        var events = done.OnSighted(SeenAt(Now.AddSeconds(12)), Now.AddSeconds(13));

        var again = done.Apply(Assert.Single(events));
        Assert.Equal(JobPhase.Claiming, again.Phase);
        Assert.Equal(2, again.Cycles);
        Assert.Null(again.VmName);
        Assert.Null(again.Outcome);
    }

    [Fact]
    public void A_late_sighting_from_a_poll_sent_before_our_runner_finished_changes_nothing() =>
        Assert.Empty(Finished(JobOutcome.Completed).OnSighted(SeenAt(Now.AddSeconds(9)), Now.AddSeconds(13)));

    [Fact]
    public void A_permanently_failed_job_is_not_taken_up_again() =>
        Assert.Empty(Finished(JobOutcome.Failed).OnSighted(SeenAt(Now.AddSeconds(60)), Now.AddSeconds(61)));
}
