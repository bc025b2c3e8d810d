using Blip.Actors.Inspection;
using Blip.Actors.Jobs;

namespace Blip.Actors.Tests.Inspection;

public sealed class JobViewsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_finished_job_shows_its_timings_and_every_event_in_order()
    {
        IJobEvent[] events =
        [
            new JobEvents.JobSighted(7, "org/repo", ["self-hosted", "blip"], 3, T0, T0.AddSeconds(1)),
            new JobEvents.VmClaimed("blip-a", T0.AddSeconds(2)),
            new JobEvents.RunnerRegistered(9, "blip-7-x"),
            new JobEvents.RunnerStarted(T0.AddSeconds(4)),
            new JobEvents.RunnerJobStarted(T0.AddSeconds(6), 8),
            new JobEvents.JobFinished(JobOutcome.Completed, "runner finished, VM stopped", T0.AddSeconds(9)),
            new JobEvents.VmReleased("blip-a", T0.AddSeconds(10)),
        ];
        var state = events.Aggregate(JobState.Empty, (s, e) => s.Apply(e));
        var record = new JobRecord(state, events.Select((e, i) => new JournaledJobEvent(i + 1, T0.AddMinutes(1), e)).ToList());

        var view = JobViews.Detail(record);

        Assert.Equal("Done", view.Phase);
        Assert.Equal("Completed", view.Outcome);
        Assert.Equal(4, view.PickupLatencySeconds);
        Assert.Equal(2, view.ProvisioningSeconds);
        Assert.Equal(T0.AddSeconds(6), view.JobStartedAt);
        Assert.Equal(["JobSighted", "VmClaimed", "RunnerRegistered", "RunnerStarted", "RunnerJobStarted", "JobFinished", "VmReleased"], view.History.Select(h => h.Event));
        Assert.Equal(T0.AddSeconds(2), view.History[1].At);
        Assert.Equal(T0.AddMinutes(1), view.History[2].At); // no time of its own: when it was written
        Assert.Equal("registered runner blip-7-x (id 9)", view.History[2].Detail);
        Assert.Equal((T0.AddSeconds(6), "runner got a job: began running job 8"), (view.History[4].At, view.History[4].Detail));
    }

    [Fact]
    public void A_job_start_seen_by_a_poll_says_so_in_the_history() =>
        Assert.Equal("runner got a job: this job left the queue (seen by a poll)", JobViews.Describe(new JobEvents.RunnerJobStarted(T0)));

    [Theory]
    [InlineData(null, null, true)]
    [InlineData("ORG/REPO", null, true)]
    [InlineData("org/other", null, false)]
    [InlineData(null, "done", true)]
    [InlineData(null, "completed", true)]
    [InlineData(null, "running", false)]
    public void Jobs_are_filtered_by_repo_and_by_phase_or_outcome(string? repo, string? state, bool matches)
    {
        var job = new IJobEvent[]
        {
            new JobEvents.JobSighted(7, "org/repo", ["blip"], 3, T0, T0),
            new JobEvents.JobFinished(JobOutcome.Completed, "done", T0),
        }.Aggregate(JobState.Empty, (s, e) => s.Apply(e));

        Assert.Equal(matches, JobViews.Matches(job, repo, state));
    }
}
