using Blip.Actors.Runners;

namespace Blip.Actors.GitHub;

/// <summary>A run as a runs listing shows it: what tells us whether its jobs may have changed.</summary>
public sealed record ListedRun(long Id, int Attempt, DateTimeOffset? UpdatedAt, string? Status);

/// <summary>What the last read of a run's jobs found, and the run as it was listed then (or since, when a listing showed
/// a change that needed no read).</summary>
/// <param name="Poll">The poll that last read the run's jobs.</param>
/// <param name="JobCount">How many jobs the run had then (GitHub's <c>total_count</c>).</param>
/// <param name="Queued">Its jobs that were queued then.</param>
public sealed record RunRead(int Attempt, DateTimeOffset? UpdatedAt, string? Status, long Poll, int JobCount, IReadOnlyList<QueuedJob> Queued)
{
    public bool HoldsQueuedJobs => Queued.Count > 0;
}

/// <summary>Why a run's jobs are read this poll, or that they are not (<see cref="None"/>).</summary>
public enum ReadReason
{
    None,
    NewRun,
    ReRun,
    Queued,
    HoldsQueuedJobs,
    Changed,
    CycleOld,
}

/// <summary>
/// Discovery that pays only for news, as pure decisions over what a repo's poller remembers of its runs (one
/// <see cref="DiscoveryMemory"/> per repo). Every poll lists <c>queued</c> runs; the <c>in_progress</c>, <c>waiting</c> and
/// <c>pending</c> lists only every <c>inProgressEvery</c>-th poll (the first poll lists all). A run's jobs are read when the
/// run is new to us, re-run, queued, known to hold queued jobs, changed (updated_at, status) — except a run of one job that
/// left the queue: that job started, there is nothing to find — or when its last read is a full in-progress cycle old, so a
/// job queued later inside a run whose listing did not change (GitHub adds <c>needs:</c> jobs and later matrix legs as
/// they become ready) is found within two cycles. A read answered 304 is free; the rules keep the reads whose answer
/// changed to those that can bring a queued job.
/// </summary>
public static class DiscoveryPlan
{
    /// <summary>Run statuses whose runs may hold queued jobs. <c>queued</c>; <c>in_progress</c> (jobs with <c>needs:</c>,
    /// later matrix legs); <c>waiting</c> (one job awaits a deployment protection rule while others of the run are
    /// queued); <c>pending</c> (a concurrency limit holds the run, and job-level concurrency can hold one job of a running
    /// one). Not <c>requested</c>: such a run "was created but has not been queued" (GitHub docs, workflow run statuses), so
    /// none of its jobs is queued yet.</summary>
    public static readonly IReadOnlyList<string> AllStatuses = ["queued", "in_progress", "waiting", "pending"];

    public static readonly IReadOnlyList<string> QueuedOnly = ["queued"];

    /// <summary>The statuses poll number <paramref name="poll"/> (from 0) lists.</summary>
    public static IReadOnlyList<string> StatusesFor(long poll, int inProgressEvery, bool pollInProgress) =>
        pollInProgress && poll % inProgressEvery == 0 ? AllStatuses : QueuedOnly;

    /// <summary>Whether a run listed this poll has its jobs read, and why.</summary>
    public static ReadReason ReasonToRead(ListedRun run, RunRead? last, long poll, int inProgressEvery)
    {
        if (last is null)
        {
            return ReadReason.NewRun;
        }

        if (run.Attempt != last.Attempt)
        {
            return ReadReason.ReRun;
        }

        if (run.Status == "queued")
        {
            return ReadReason.Queued;
        }

        if (LeftQueueWithItsOnlyJob(run, last))
        {
            return ReadReason.None;
        }

        if (last.HoldsQueuedJobs)
        {
            return ReadReason.HoldsQueuedJobs;
        }

        if (run.UpdatedAt != last.UpdatedAt || run.Status != last.Status)
        {
            return ReadReason.Changed;
        }

        return poll - last.Poll >= inProgressEvery ? ReadReason.CycleOld : ReadReason.None;
    }

    /// <summary>A run we read while it was queued, with one job, listed now in another status: that job left the queue.</summary>
    public static bool LeftQueueWithItsOnlyJob(ListedRun run, RunRead last) =>
        last.Status == "queued" && run.Status != "queued" && last.JobCount <= 1;

    /// <summary>What to remember of a run listed this poll whose jobs were not read: its listing, and no queued job when
    /// its only one left the queue.</summary>
    public static RunRead Unread(ListedRun run, RunRead last) => LeftQueueWithItsOnlyJob(run, last)
        ? last with { Status = run.Status, UpdatedAt = run.UpdatedAt, Queued = [] }
        : last;

    /// <summary>Whether a remembered run that this poll's listings did not show is read anyway: it holds queued jobs and
    /// either its status was not listed this poll, or it vanished from the queued list with more than one job (a matrix
    /// whose first legs started: the others may still be queued). A run of one job that vanished from the queued list
    /// lost its job (started or cancelled): nothing to read.</summary>
    public static bool ReadUnlisted(RunRead last, IReadOnlyList<string> listed) =>
        last.HoldsQueuedJobs && (!listed.Contains(last.Status ?? "") || last.JobCount > 1);

    /// <summary>What to remember of a run that this poll's listings did not show and that is not read: nothing when they
    /// listed every status we poll (it completed); no queued job when it left the queued list with its only job (kept as last
    /// listed, so its next listing in another status is that same change, not news); else as before.</summary>
    public static RunRead? Unlisted(RunRead last, bool everyStatusListed) => everyStatusListed
        ? null
        : last with { Queued = last.Status == "queued" ? [] : last.Queued };
}

/// <summary>What one repo's discovery remembers between polls: the poll count and each run it read. Polls of one repo
/// never overlap (the repo's poller waits for each), so no two calls touch one memory at once.</summary>
public sealed class DiscoveryMemory
{
    /// <summary>Runs remembered per repo at most; past it the oldest reads are forgotten (read again when listed).</summary>
    public const int MaxRuns = 5000;

    public long Polls { get; private set; }

    public Dictionary<long, RunRead> Runs { get; private set; } = [];

    /// <summary>Ends a poll: what it learnt replaces what was remembered.</summary>
    public void Completed(Dictionary<long, RunRead> runs)
    {
        Runs = runs.Count <= MaxRuns ? runs : runs.OrderByDescending(r => r.Value.Poll).Take(MaxRuns).ToDictionary();
        Polls++;
    }
}
