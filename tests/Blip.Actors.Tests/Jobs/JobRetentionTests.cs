using Akka.Persistence.Journal;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary><see cref="JobRetention"/>: the one rule behind forgetting finished jobs and ignoring old sightings.</summary>
public sealed class JobRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    private static readonly RepoName Repo = new("org", "repo");

    private static readonly JobMemory Memory = JobMemory.Start(
        new JobLimits(5, TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(30), 1800) { JobRetention = Retention }, Now);

    private static JobCommands.Sighted QueuedAt(DateTimeOffset? queuedAt) => new(new JobId(42), Repo, ["self-hosted", "blip"], 7, queuedAt, Now);

    private static JobState Done(DateTimeOffset finishedAt) => new IJobEvent[]
    {
        new JobEvents.JobSighted(42, Repo.FullName, ["self-hosted", "blip"], 7, finishedAt.AddMinutes(-5), finishedAt.AddMinutes(-5)),
        new JobEvents.JobFinished(JobOutcome.Abandoned, "left the queue", finishedAt),
    }.Aggregate(JobState.Empty, (s, e) => s.Apply(e));

    [Fact]
    public void A_time_a_retention_or_more_ago_is_past_and_an_unknown_time_never_is()
    {
        Assert.True(JobRetention.IsPast(Now - Retention, Now, Retention));
        Assert.True(JobRetention.IsPast(Now.AddDays(-3), Now, Retention));
        Assert.False(JobRetention.IsPast(Now - Retention + TimeSpan.FromSeconds(1), Now, Retention));
        Assert.False(JobRetention.IsPast(null, Now, Retention));
    }

    [Fact]
    public void Only_a_job_done_a_retention_ago_may_forget_its_events()
    {
        Assert.True(JobRetention.MayForget(Done(Now - Retention), Now, Retention));
        Assert.False(JobRetention.MayForget(Done(Now.AddHours(-1)), Now, Retention));
        Assert.False(JobRetention.MayForget(JobState.Empty, Now, Retention));

        // Taken up again after its first cycle finished long ago: live, never forgotten.
        var takenUpAgain = Done(Now.AddDays(-2)).Apply(new JobEvents.JobSighted(42, Repo.FullName, ["blip"], 7, Now.AddDays(-3), Now.AddMinutes(-1)));
        Assert.False(JobRetention.MayForget(takenUpAgain, Now, Retention));
    }

    [Fact]
    public void A_first_sighting_of_a_job_queued_longer_ago_than_the_retention_takes_nothing_up_and_says_so_once()
    {
        var first = JobState.Empty.Decide(QueuedAt(Now.AddHours(-25)), Memory, Now);
        var second = JobState.Empty.Decide(QueuedAt(Now.AddHours(-25)), first.Memory, Now);

        Assert.Empty(first.Events);
        var line = Assert.IsType<JobEffect.Log>(Assert.Single(first.Effects));
        Assert.Equal(Akka.Event.LogLevel.InfoLevel, line.Level);
        Assert.Contains("longer ago than Blip:JobRetention", line.Message);
        Assert.Empty(second.Events);
        Assert.Empty(second.Effects);
    }

    [Fact]
    public void A_first_sighting_within_the_retention_or_without_a_queued_time_is_taken_up()
    {
        Assert.IsType<JobEvents.JobSighted>(Assert.Single(JobState.Empty.Decide(QueuedAt(Now.AddHours(-23)), Memory, Now).Events));
        Assert.IsType<JobEvents.JobSighted>(Assert.Single(JobState.Empty.Decide(QueuedAt(null), Memory, Now).Events));
    }

    [Fact]
    public void A_tombstone_still_decides_an_old_sighting_a_poll_sent_after_our_runner_finished_takes_the_job_up_again()
    {
        // Within the retention the record is there: the usual rule (our runner ran another job) applies, not the age.
        var done = Done(Now.AddMinutes(-1)) with { Outcome = JobOutcome.Completed };

        Assert.IsType<JobEvents.JobSighted>(Assert.Single(done.Decide(QueuedAt(Now.AddHours(-25)), Memory, Now).Events));
    }

    [Fact]
    public void The_sweep_interval_is_a_quarter_of_the_retention_between_a_second_and_five_minutes()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), JobRetention.SweepInterval(TimeSpan.FromHours(24)));
        Assert.Equal(TimeSpan.FromSeconds(5), JobRetention.SweepInterval(TimeSpan.FromSeconds(20)));
        Assert.Equal(TimeSpan.FromSeconds(1), JobRetention.SweepInterval(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Sightings_and_finishes_are_tagged_for_the_journal_and_come_back_untagged()
    {
        var sighted = new JobEvents.JobSighted(42, Repo.FullName, ["blip"], 7, Now, Now);
        var finished = new JobEvents.JobFinished(JobOutcome.Completed, "done", Now);
        var claimed = new JobEvents.VmClaimed("vm-1", Now, "uid-1");

        Assert.Equal([JobRetention.SightedTag], ((Tagged)JobRetention.Tagged(sighted)).Tags);
        Assert.Equal([JobRetention.FinishedTag], ((Tagged)JobRetention.Tagged(finished)).Tags);
        Assert.Same(claimed, JobRetention.Tagged(claimed));
        Assert.Same(finished, JobRetention.Untagged(JobRetention.Tagged(finished)));
        Assert.Same(claimed, JobRetention.Untagged(claimed));
    }
}
