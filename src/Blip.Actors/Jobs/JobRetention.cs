using Akka.Persistence.Journal;

namespace Blip.Actors.Jobs;

/// <summary>
/// How long a finished job is remembered (<c>Blip:JobRetention</c>) and what that means. Pure.
/// A finished job keeps its events (the tombstone that makes a late sighting do nothing) for the retention; then the
/// <see cref="JobRetentionSweeper"/> has its events deleted. A job queued longer ago than the retention is never taken
/// up: its tombstone may be gone, and GitHub cancels a job left queued for 24 h anyway. Since a job is queued before it
/// finishes, every sighting of a job whose events are gone is one of a job queued longer ago than the retention.
/// </summary>
public static class JobRetention
{
    public static readonly TimeSpan Default = TimeSpan.FromHours(24);

    /// <summary>The tag of <see cref="JobEvents.JobFinished"/>: the sweeper reads finished jobs, oldest first, by it.</summary>
    public const string FinishedTag = "job-finished";

    /// <summary>The tag of <see cref="JobEvents.JobSighted"/>: the read side pages through jobs by it.</summary>
    public const string SightedTag = "job-sighted";

    /// <summary>Whether <paramref name="since"/> (a job's queued or finished time) lies a retention or more before <paramref name="now"/>.
    /// Unknown (null) is never past: a sighting without a queued time is judged by the tombstone alone.</summary>
    public static bool IsPast(DateTimeOffset? since, DateTimeOffset now, TimeSpan retention) =>
        since is { } at && now - at >= retention;

    /// <summary>Whether the job's events may go: finished (its VM released) a retention or more ago.</summary>
    public static bool MayForget(JobState state, DateTimeOffset now, TimeSpan retention) =>
        state.Phase == JobPhase.Done && IsPast(state.FinishedAt, now, retention);

    /// <summary>How often the sweeper looks: a quarter of the retention, between 1 s and 5 min.</summary>
    public static TimeSpan SweepInterval(TimeSpan retention) =>
        TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromMinutes(5).Ticks));

    /// <summary>The event as the journal stores it: with the tag the sweeper or the read side queries by, if any.</summary>
    public static object Tagged(IJobEvent e) => e switch
    {
        JobEvents.JobSighted => new Tagged(e, [SightedTag]),
        JobEvents.JobFinished => new Tagged(e, [FinishedTag]),
        _ => e,
    };

    /// <summary>The event inside what <see cref="Tagged(IJobEvent)"/> made.</summary>
    public static IJobEvent Untagged(object persisted) => persisted is Tagged t ? (IJobEvent)t.Payload : (IJobEvent)persisted;
}
