using Akka.Event;

namespace Blip.Actors.Jobs;

/// <summary>What <see cref="JobState.Decide"/> returns: the events to persist (in order), then the effects the actor
/// performs once they are persisted, and what the actor remembers outside the journal.</summary>
public sealed record JobDecision(IReadOnlyList<IJobEvent> Events, IReadOnlyList<JobEffect> Effects, JobMemory Memory)
{
    public static JobDecision Nothing(JobMemory memory) => new([], [], memory);
}

/// <summary>A side effect a decision asks of the job actor. Data, so the decision stays pure and testable.</summary>
public abstract record JobEffect
{
    private JobEffect()
    {
    }

    public sealed record Log(LogLevel Level, string Message) : JobEffect;

    /// <summary>Give a VM back without waiting (a failure is logged; the janitor finishes it off).</summary>
    public sealed record ReleaseVm(string VmName, string? VmUid) : JobEffect;

    /// <summary>Release the job's own VM and report <see cref="JobInputs.ReleaseDone"/>.</summary>
    public sealed record ReleaseOwnVm(string VmName, string? VmUid) : JobEffect;

    public sealed record RetryReleaseAfter(TimeSpan Delay) : JobEffect;

    public sealed record DeleteRunner(long RunnerId) : JobEffect;

    /// <summary>Delete every registration of this job's runners that is not busy: the cycle ended before its runner was
    /// known to run, and registrations made before a crash (never journaled) would otherwise stay behind.</summary>
    public sealed record DeleteUnusedRegistrations : JobEffect;

    /// <summary>Ask GitHub about the runner; when <paramref name="DeleteIfIdle"/>, an idle one is deleted.</summary>
    public sealed record CheckRunner(long RunnerId, bool DeleteIfIdle) : JobEffect;

    /// <summary>Stop the current child (its late reports no longer count).</summary>
    public sealed record StopChild : JobEffect;

    /// <summary>The current child finishes by itself: forget it without stopping it.</summary>
    public sealed record ForgetChild : JobEffect;

    public sealed record Reply(object Message) : JobEffect;

    /// <summary>Idle and finished (or never started): the shard may passivate this actor.</summary>
    public sealed record Passivate : JobEffect;

    /// <summary>Finished past the retention: delete the job's events, tell the asker, then passivate.</summary>
    public sealed record DeleteEvents : JobEffect;
}

/// <summary>The limits a job decides by (from the controller's options).</summary>
public sealed record JobLimits(int MaxVmsGivenUpPerJob, TimeSpan QueuedSightingTimeout, TimeSpan IdleRunnerGrace, int MaxDurationSeconds)
{
    /// <summary><c>Blip:JobRetention</c>: see <see cref="Jobs.JobRetention"/>.</summary>
    public TimeSpan JobRetention { get; init; } = Jobs.JobRetention.Default;
}

/// <summary>What one incarnation of a job actor knows beyond its journal. Lost on restart, on purpose: each field
/// starts from a safe value.</summary>
/// <param name="LastSightedAt">When a poll last saw the job queued (this incarnation's start until one does).</param>
/// <param name="LastSightingPolledAt">When the poll behind the latest sighting was sent: a "left the queue" from an
/// older poll is stale.</param>
/// <param name="CheckingRunner">A runner check is in flight.</param>
/// <param name="ReleasingVm">A release of the job's own VM is in flight.</param>
/// <param name="Recovered">This incarnation resumed a job from the journal: work from before the stop may have left traces.</param>
/// <param name="SaidTooOld">A sighting of this job, queued longer ago than the retention, was logged as ignored.</param>
/// <param name="LeftQueueWhileStarting">A poll (sent at <c>At</c>) saw the job leave the queue while the runner on
/// <c>Vm</c> (uid, else name) was being started: the runner may have taken it before its start was recorded, and the poller
/// says so only once. The job's start, once that runner's is recorded.</param>
public sealed record JobMemory(
    JobLimits Limits,
    DateTimeOffset LastSightedAt,
    DateTimeOffset LastSightingPolledAt,
    bool CheckingRunner = false,
    bool ReleasingVm = false,
    bool Recovered = false,
    bool SaidTooOld = false,
    (string Vm, DateTimeOffset At)? LeftQueueWhileStarting = null)
{
    public static JobMemory Start(JobLimits limits, DateTimeOffset now) => new(limits, now, DateTimeOffset.MinValue);
}
