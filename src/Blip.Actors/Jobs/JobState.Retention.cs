namespace Blip.Actors.Jobs;

/// <summary>The two decisions <c>Blip:JobRetention</c> adds (<see cref="JobRetention"/>): a job unknown to the journal that
/// was queued longer ago than the retention is not taken up, and a job finished longer ago forgets its events.</summary>
public sealed partial record JobState
{
    /// <summary>A sighting a job without a record must not act on: queued a retention or more ago, so its events, if it
    /// ever had any, are gone (a late or replayed delivery, a poll of a job GitHub is about to cancel).</summary>
    private static bool IsTooOld(JobState state, JobCommands.Sighted m, JobMemory memory, DateTimeOffset now) =>
        state.Phase == JobPhase.New && JobRetention.IsPast(m.QueuedAt, now, memory.Limits.JobRetention);

    private static JobDecision IgnoreTooOld(JobCommands.Sighted m, JobMemory memory) =>
        memory.SaidTooOld
            ? JobDecision.Nothing(memory)
            : new([], [Info($"job {m.JobId} ({m.Repo}): queued at {m.QueuedAt:O}, longer ago than Blip:JobRetention ({memory.Limits.JobRetention}); ignored (a late or replayed sighting)")],
                memory with { SaidTooOld = true });

    private JobDecision DecideForget(JobMemory memory, DateTimeOffset now) =>
        JobRetention.MayForget(this, now, memory.Limits.JobRetention)
            ? new([], [Info($"job {JobId} ({Repo}): finished at {FinishedAt:O}, longer ago than Blip:JobRetention ({memory.Limits.JobRetention}); deleting its events"), new JobEffect.DeleteEvents()], memory)
            : JobDecision.Nothing(memory);
}
