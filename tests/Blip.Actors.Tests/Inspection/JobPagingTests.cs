using Blip.Actors.Inspection;
using Blip.Actors.Jobs;

namespace Blip.Actors.Tests.Inspection;

/// <summary><see cref="JobPaging"/>: a page of jobs read from the newest sighting down, never the whole journal.</summary>
public sealed class JobPagingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A journal of sightings at positions 10, 20, … (job 1 first); <paramref name="repoOf"/> names each job's repo.</summary>
    private sealed class FakeJournal(int jobs, Func<long, string> repoOf)
    {
        public List<long> Read { get; } = [];

        public int SightingsRead { get; private set; }

        public List<JobSighting> Sightings { get; } = Enumerable.Range(1, jobs).Select(i => new JobSighting(i * 10, i)).ToList();

        public Task<IReadOnlyList<JobSighting>> SightingsAsync(long before, int count)
        {
            IReadOnlyList<JobSighting> page = Sightings.Where(s => s.Position < before).OrderByDescending(s => s.Position).Take(count).ToList();
            SightingsRead += page.Count;
            return Task.FromResult(page);
        }

        public Task<JobState?> ReadAsync(long jobId)
        {
            lock (Read)
            {
                Read.Add(jobId);
            }

            return Task.FromResult<JobState?>(JobState.Empty.Apply(new JobEvents.JobSighted(jobId, repoOf(jobId), ["blip"], 1, Now, Now)));
        }

        public Task<JobsPage> PageAsync(int limit, long? before, string? repo = null) =>
            JobPaging.PageAsync(SightingsAsync, ReadAsync, s => JobViews.Matches(s, repo, null), limit, before);
    }

    [Fact]
    public async Task A_page_is_the_newest_jobs_and_names_where_the_next_one_starts()
    {
        var journal = new FakeJournal(120, _ => "org/repo");

        var first = await journal.PageAsync(limit: 50, before: null);
        var second = await journal.PageAsync(limit: 50, before: first.More);
        var last = await journal.PageAsync(limit: 50, before: second.More);

        Assert.Equal(Enumerable.Range(71, 50).Reverse().Select(i => (long)i), first.Jobs.Select(j => j.JobId));
        Assert.Equal(710, first.More);
        Assert.Equal(Enumerable.Range(21, 50).Reverse().Select(i => (long)i), second.Jobs.Select(j => j.JobId));
        Assert.Equal(Enumerable.Range(1, 20).Reverse().Select(i => (long)i), last.Jobs.Select(j => j.JobId));
        Assert.Null(last.More);
    }

    [Fact]
    public async Task A_page_reads_only_what_it_shows_not_the_whole_journal()
    {
        var journal = new FakeJournal(10_000, _ => "org/repo");

        var page = await journal.PageAsync(limit: 5, before: null);

        Assert.Equal(5, page.Jobs.Count);
        Assert.True(journal.Read.Count <= 8, $"{journal.Read.Count} job histories read for a page of 5");
        Assert.True(journal.SightingsRead <= JobPaging.Batch, $"{journal.SightingsRead} sightings read for a page of 5");
    }

    [Fact]
    public async Task A_filter_that_matches_little_stops_after_a_bounded_scan_with_a_cursor_to_go_on()
    {
        var journal = new FakeJournal(10_000, id => id == 3 ? "org/rare" : "org/repo");

        var page = await journal.PageAsync(limit: 10, before: null, repo: "org/rare");

        Assert.Empty(page.Jobs);
        Assert.NotNull(page.More);
        Assert.True(journal.Read.Count <= JobPaging.MaxScanned(10) + JobPaging.Batch, $"{journal.Read.Count} histories read");

        // Following the cursors reaches the one match, once, and ends.
        var found = new List<long>();
        for (var next = page.More; next is not null;)
        {
            var more = await journal.PageAsync(limit: 10, before: next, repo: "org/rare");
            found.AddRange(more.Jobs.Select(j => j.JobId));
            next = more.More;
        }

        Assert.Equal([3L], found);
    }

    [Fact]
    public async Task A_job_taken_up_again_is_shown_once_at_its_newest_sighting()
    {
        var journal = new FakeJournal(3, _ => "org/repo");
        journal.Sightings.Add(new JobSighting(40, 1)); // job 1 sighted again after job 3

        var page = await journal.PageAsync(limit: 10, before: null);

        Assert.Equal([1L, 3, 2], page.Jobs.Select(j => j.JobId));
        Assert.Null(page.More);
    }
}
