using Blip.Actors.GitHub;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.GitHub;

public sealed class DiscoveryPlanTests
{
    private const int Every = 10;
    private static readonly DateTimeOffset Created = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly RepoName Repo = RepoName.Parse("acme/app");
    private static readonly QueuedJob Job = new(11, 7, Repo, ["self-hosted"], Created, "build");

    private static ListedRun Listed(string status, int attempt = 1, int updatedAfter = 0) => new(7, attempt, Created.AddSeconds(updatedAfter), status);

    private static RunRead ReadAt(long poll, string status, int jobs, params QueuedJob[] queued) => new(1, Created, status, poll, jobs, queued);

    [Fact]
    public void The_first_poll_lists_every_status_then_only_every_cycle_and_queued_runs_always()
    {
        var lists = Enumerable.Range(0, 21).Select(p => DiscoveryPlan.StatusesFor(p, Every, pollInProgress: true).Count).ToList();

        Assert.Equal([0, 10, 20], lists.Select((count, poll) => (count, poll)).Where(x => x.count == 4).Select(x => x.poll));
        Assert.All(lists, count => Assert.True(count is 1 or 4));
        Assert.Equal(["queued"], DiscoveryPlan.StatusesFor(0, Every, pollInProgress: false));
        Assert.Equal(DiscoveryPlan.AllStatuses, DiscoveryPlan.StatusesFor(3, 1, pollInProgress: true));
    }

    [Fact]
    public void A_run_new_to_us_or_re_run_or_queued_is_read()
    {
        Assert.Equal(ReadReason.NewRun, DiscoveryPlan.ReasonToRead(Listed("in_progress"), null, 5, Every));
        Assert.Equal(ReadReason.ReRun, DiscoveryPlan.ReasonToRead(Listed("in_progress", attempt: 2), ReadAt(4, "in_progress", 1), 5, Every));
        Assert.Equal(ReadReason.Queued, DiscoveryPlan.ReasonToRead(Listed("queued"), ReadAt(4, "queued", 1, Job), 5, Every));
    }

    [Fact]
    public void A_run_of_one_job_that_left_the_queue_is_not_read_and_holds_no_queued_job_any_more()
    {
        var last = ReadAt(4, "queued", 1, Job);
        var running = Listed("in_progress", updatedAfter: 9);

        Assert.Equal(ReadReason.None, DiscoveryPlan.ReasonToRead(running, last, 10, Every));
        var kept = DiscoveryPlan.Unread(running, last);
        Assert.Empty(kept.Queued);
        Assert.Equal(("in_progress", Created.AddSeconds(9), 4L), (kept.Status, kept.UpdatedAt, kept.Poll));
        // Listed again unchanged: nothing new until its read is a cycle old.
        Assert.Equal(ReadReason.None, DiscoveryPlan.ReasonToRead(running, kept, 13, Every));
        Assert.Equal(ReadReason.CycleOld, DiscoveryPlan.ReasonToRead(running, kept, 14, Every));
    }

    [Fact]
    public void A_run_of_several_jobs_that_left_the_queue_is_read_its_other_jobs_may_still_be_queued()
    {
        var last = ReadAt(4, "queued", 3, Job, Job with { JobId = 12 }, Job with { JobId = 13 });

        Assert.Equal(ReadReason.HoldsQueuedJobs, DiscoveryPlan.ReasonToRead(Listed("in_progress", updatedAfter: 9), last, 10, Every));
        Assert.True(DiscoveryPlan.ReadUnlisted(last, DiscoveryPlan.QueuedOnly));
    }

    [Fact]
    public void A_changed_run_without_known_queued_jobs_is_read_and_an_unchanged_one_only_once_a_cycle()
    {
        var last = ReadAt(4, "in_progress", 2);

        Assert.Equal(ReadReason.Changed, DiscoveryPlan.ReasonToRead(Listed("in_progress", updatedAfter: 30), last, 10, Every));
        Assert.Equal(ReadReason.Changed, DiscoveryPlan.ReasonToRead(Listed("waiting"), last, 10, Every));
        Assert.Equal(ReadReason.None, DiscoveryPlan.ReasonToRead(Listed("in_progress"), last, 13, Every));
        Assert.Equal(ReadReason.CycleOld, DiscoveryPlan.ReasonToRead(Listed("in_progress"), last, 14, Every));
    }

    [Fact]
    public void A_run_holding_queued_jobs_is_read_every_poll_even_when_its_status_is_not_listed()
    {
        var waiting = ReadAt(4, "waiting", 2, Job);

        Assert.Equal(ReadReason.HoldsQueuedJobs, DiscoveryPlan.ReasonToRead(Listed("waiting"), waiting, 5, Every));
        Assert.True(DiscoveryPlan.ReadUnlisted(waiting, DiscoveryPlan.QueuedOnly));
        Assert.False(DiscoveryPlan.ReadUnlisted(waiting with { Queued = [] }, DiscoveryPlan.QueuedOnly));
    }

    [Fact]
    public void An_unlisted_run_is_forgotten_after_a_listing_of_every_status_and_kept_otherwise()
    {
        var running = ReadAt(4, "in_progress", 2);
        var queued = ReadAt(4, "queued", 1, Job);

        Assert.Null(DiscoveryPlan.Unlisted(running, everyStatusListed: true));
        Assert.Equal(running, DiscoveryPlan.Unlisted(running, everyStatusListed: false));
        Assert.False(DiscoveryPlan.ReadUnlisted(queued, DiscoveryPlan.QueuedOnly));
        Assert.Empty(DiscoveryPlan.Unlisted(queued, everyStatusListed: false)!.Queued);
    }

    [Fact]
    public void Memory_counts_polls_and_keeps_the_most_recently_read_runs()
    {
        var memory = new DiscoveryMemory();
        var runs = Enumerable.Range(0, DiscoveryMemory.MaxRuns + 1).ToDictionary(i => (long)i, i => ReadAt(i, "in_progress", 1));

        memory.Completed(runs);

        Assert.Equal(1, memory.Polls);
        Assert.Equal(DiscoveryMemory.MaxRuns, memory.Runs.Count);
        Assert.DoesNotContain(0L, memory.Runs.Keys);
    }
}
