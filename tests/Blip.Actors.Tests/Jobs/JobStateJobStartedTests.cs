using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary>
/// Issue 16, the "job started" stage: <see cref="JobEvents.RunnerJobStarted"/> from a webhook's <c>in_progress</c> or from
/// a poll that saw the job leave the queue while our runner runs; once per cycle, only for this cycle's runner.
/// </summary>
public sealed class JobStateJobStartedTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly JobLimits Limits = new(MaxVmsGivenUpPerJob: 5, QueuedSightingTimeout: TimeSpan.FromMinutes(2), IdleRunnerGrace: TimeSpan.FromSeconds(30), MaxDurationSeconds: 1800);
    private static readonly JobId Id = new(42);

    private static readonly JobMemory Memory = JobMemory.Start(Limits, Now.AddSeconds(-20)) with { LastSightingPolledAt = Now.AddSeconds(-20) };

    private static JobState Running(string runner = "blip-42-a") => Apply(JobState.Empty,
        new JobEvents.JobSighted(Id.Value, "org/repo", ["self-hosted", "blip"], 7, Now.AddSeconds(-30), Now.AddSeconds(-20)),
        new JobEvents.VmClaimed("vm-1", Now.AddSeconds(-18), "uid-1"),
        new JobEvents.RunnerRegistered(5, runner),
        new JobEvents.RunnerStarted(Now.AddSeconds(-10)));

    private static JobState Provisioning() => Apply(JobState.Empty,
        new JobEvents.JobSighted(Id.Value, "org/repo", ["blip"], 7, null, Now.AddSeconds(-20)),
        new JobEvents.VmClaimed("vm-1", Now.AddSeconds(-18), "uid-1"),
        new JobEvents.RunnerRegistered(5, "blip-42-a"));

    private static JobState Apply(JobState state, params IJobEvent[] events) => events.Aggregate(state, (s, e) => s.Apply(e));

    private static JobCommands.RunnerJobStarted Delivery(string runner = "blip-42-a", DateTimeOffset? startedAt = null) =>
        new(Id, runner, 43, startedAt ?? Now.AddSeconds(-3));

    [Fact]
    public void A_webhook_for_our_runner_records_githubs_started_at_and_the_job_it_ran()
    {
        var decision = Running().Decide(Delivery(), Memory, Now);

        Assert.Equal([new JobEvents.RunnerJobStarted(Now.AddSeconds(-3), 43)], decision.Events);
        Assert.Equal(Now.AddSeconds(-3), Apply(Running(), [.. decision.Events]).JobStartedAt);
        Assert.Contains(decision.Effects.OfType<JobEffect.Log>(), l => l.Message == "job 42 (org/repo): runner blip-42-a began running job 43, 7.0 s after it started");
    }

    [Fact]
    public void A_webhook_without_started_at_records_the_time_it_arrived() =>
        Assert.Equal([new JobEvents.RunnerJobStarted(Now, 43)], Running().Decide(new JobCommands.RunnerJobStarted(Id, "blip-42-a", 43, null), Memory, Now).Events);

    [Fact]
    public void A_webhook_while_the_runner_is_still_being_started_records_the_start_too() =>
        Assert.Equal([new JobEvents.RunnerJobStarted(Now.AddSeconds(-3), 43)], Provisioning().Decide(Delivery(), Memory, Now).Events);

    [Fact]
    public void A_redelivered_or_late_signal_adds_no_second_start()
    {
        var started = Apply(Running(), [.. Running().Decide(Delivery(), Memory, Now).Events]);

        Assert.Empty(started.Decide(Delivery(startedAt: Now.AddSeconds(-1)), Memory, Now).Events);
        Assert.Empty(started.Decide(new JobCommands.LeftQueue(Id, Now), Memory, Now).Events);
        Assert.Equal(Now.AddSeconds(-3), Apply(started, new JobEvents.RunnerJobStarted(Now, 44)).JobStartedAt);
    }

    [Fact]
    public void A_webhook_for_an_earlier_cycles_runner_or_before_our_runner_is_known_adds_none()
    {
        // Cycle 1's runner blip-42-a ran another job; the job was taken up again with runner blip-42-b.
        var second = Apply(Running(), new JobEvents.JobFinished(JobOutcome.Completed, "runner ran job 43", Now.AddSeconds(-9)), new JobEvents.VmReleased("vm-1", Now.AddSeconds(-8)),
            new JobEvents.JobSighted(Id.Value, "org/repo", ["blip"], 7, null, Now.AddSeconds(-7)),
            new JobEvents.VmClaimed("vm-2", Now.AddSeconds(-6), "uid-2"),
            new JobEvents.RunnerRegistered(6, "blip-42-b"),
            new JobEvents.RunnerStarted(Now.AddSeconds(-5)));
        var unregistered = Apply(JobState.Empty,
            new JobEvents.JobSighted(Id.Value, "org/repo", ["blip"], 7, null, Now.AddSeconds(-20)),
            new JobEvents.VmClaimed("vm-1", Now.AddSeconds(-18), "uid-1"));

        Assert.Empty(second.Decide(Delivery("blip-42-a"), Memory, Now).Events);
        Assert.Single(second.Decide(Delivery("blip-42-b"), Memory, Now).Events);
        Assert.Empty(unregistered.Decide(Delivery("blip-42-a"), Memory, Now).Events);
    }

    [Fact]
    public void A_new_cycle_forgets_the_start_of_the_last()
    {
        var started = Apply(Running(), new JobEvents.RunnerJobStarted(Now.AddSeconds(-3), 43), new JobEvents.JobFinished(JobOutcome.Completed, "runner ran job 43", Now.AddSeconds(-2)),
            new JobEvents.VmReleased("vm-1", Now.AddSeconds(-1)));

        var again = Apply(started, new JobEvents.JobSighted(Id.Value, "org/repo", ["blip"], 7, null, Now));

        Assert.Equal(Now.AddSeconds(-3), started.JobStartedAt);
        Assert.Null(again.JobStartedAt);
    }

    [Fact]
    public void Leaving_the_queue_while_our_runner_runs_records_the_start_once_at_the_polls_time()
    {
        var poll = new JobCommands.LeftQueue(Id, Now.AddSeconds(-2));

        var decision = Running().Decide(poll, Memory, Now);
        var started = Apply(Running(), [.. decision.Events]);

        Assert.Equal([new JobEvents.RunnerJobStarted(Now.AddSeconds(-2))], decision.Events);
        Assert.DoesNotContain(decision.Effects, e => e is not JobEffect.Log);
        Assert.Equal(Now.AddSeconds(-2), started.JobStartedAt);
        Assert.Equal(JobPhase.Running, started.Phase);
        Assert.Empty(started.Decide(poll with { ObservedAt = Now }, Memory, Now).Events);
    }

    [Fact]
    public void Leaving_the_queue_seen_by_a_poll_older_than_the_latest_sighting_records_nothing()
    {
        var memory = Memory with { LastSightingPolledAt = Now.AddSeconds(-1) };

        Assert.Empty(Running().Decide(new JobCommands.LeftQueue(Id, Now.AddSeconds(-2)), memory, Now).Events);
        Assert.Empty(Running().Decide(new JobCommands.LeftQueue(Id, Now.AddSeconds(-1)), memory, Now).Events);
    }

    [Fact]
    public void Leaving_the_queue_while_claiming_still_ends_the_cycle_as_abandoned()
    {
        var claiming = Apply(JobState.Empty, new JobEvents.JobSighted(Id.Value, "org/repo", ["blip"], 7, null, Now.AddSeconds(-20)));

        var decision = claiming.Decide(new JobCommands.LeftQueue(Id, Now.AddSeconds(-2)), Memory, Now);

        Assert.Equal([new JobEvents.JobFinished(JobOutcome.Abandoned, "the job left the queue before a VM was claimed", Now)], decision.Events);
        Assert.Equal([new JobEffect.StopChild()], decision.Effects.Where(e => e is not JobEffect.Log));
        Assert.Null(Apply(claiming, [.. decision.Events]).JobStartedAt);
    }

    [Fact]
    public void Leaving_the_queue_while_the_runner_is_still_being_started_records_the_start_with_the_runners()
    {
        var provisioning = Provisioning();
        var runnerStarted = new JobInputs.ChildReport(new RunnerBootstrapper.Started(Now), FromCurrentChild: true);

        var left = provisioning.Decide(new JobCommands.LeftQueue(Id, Now.AddSeconds(-1)), Memory, Now);
        var started = provisioning.Decide(runnerStarted, left.Memory, Now);
        // The runner's VM was given up meanwhile and another claimed: that poll says nothing about the new runner.
        var another = Apply(provisioning, new JobEvents.VmAbandoned("vm-1", "ssh refused", "uid-1"), new JobEvents.VmClaimed("vm-2", Now, "uid-2"), new JobEvents.RunnerRegistered(6, "blip-42-b"));

        Assert.Empty(left.Events);
        Assert.Equal([new JobEvents.RunnerStarted(Now), new JobEvents.RunnerJobStarted(Now.AddSeconds(-1))], started.Events);
        Assert.Null(started.Memory.LeftQueueWhileStarting);
        Assert.Equal([new JobEvents.RunnerStarted(Now)], provisioning.Decide(runnerStarted, Memory, Now).Events);
        Assert.Equal([new JobEvents.RunnerStarted(Now)], another.Decide(runnerStarted, left.Memory, Now).Events);
    }
}
