using Blip.Actors.Jobs;

namespace Blip.Actors.Inspection;

/// <summary>
/// One page of <c>blipctl jobs list</c>: jobs newest sighting first, from journal position <c>before</c> down, until
/// <c>limit</c> match the filters or <see cref="MaxScanned"/> sightings were read for this page, whichever comes first.
/// The page names where the next one starts (<see cref="JobsPage.More"/>), so a long journal is read a page at a time
/// and a request never reads more than a page's worth, whatever the filters. A job taken up again has a sighting per
/// cycle: within a page it is shown once, at its newest.
/// </summary>
public static class JobPaging
{
    /// <summary>Sightings read per query.</summary>
    public const int Batch = 64;

    /// <summary>Reads of job histories at a time: the journal is shared with the job actors.</summary>
    private const int Parallel = 8;

    /// <summary>Sightings read per page at most: a filter that matches little still answers quickly, with a cursor.</summary>
    public static int MaxScanned(int limit) => Math.Max(500, limit * 4);

    /// <param name="sightings">Up to n sightings before a position, newest first.</param>
    /// <param name="read">A job's state from its events; null when they are gone.</param>
    public static async Task<JobsPage> PageAsync(
        Func<long, int, Task<IReadOnlyList<JobSighting>>> sightings, Func<long, Task<JobState?>> read, Func<JobState, bool> matches, int limit, long? before)
    {
        var shown = new List<JobState>();
        var seen = new HashSet<long>();
        var cursor = before ?? long.MaxValue;
        var scanned = 0;
        while (scanned < MaxScanned(limit))
        {
            var batch = await sightings(cursor, Batch).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return new JobsPage(shown, null);
            }

            foreach (var chunk in batch.Where(s => seen.Add(s.JobId)).Chunk(Parallel))
            {
                var states = await Task.WhenAll(chunk.Select(s => read(s.JobId))).ConfigureAwait(false);
                for (var i = 0; i < chunk.Length; i++)
                {
                    if (states[i] is { } state && matches(state))
                    {
                        shown.Add(state);
                        if (shown.Count == limit)
                        {
                            return new JobsPage(shown, chunk[i].Position);
                        }
                    }
                }
            }

            scanned += batch.Count;
            cursor = batch[^1].Position;
        }

        return new JobsPage(shown, cursor);
    }
}

/// <summary>The jobs of one page, and the position the next page starts before (null: this was the last).</summary>
public sealed record JobsPage(IReadOnlyList<JobState> Jobs, long? More);
