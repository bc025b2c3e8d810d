using System.Collections.Immutable;
using Akka.Actor;

namespace Blip.Actors.Jobs;

/// <summary>
/// What a job actor persists: facts in the past tense, never a secret (no PAT, no JIT config).
/// Each has a stable manifest in <see cref="JobEventSerializer"/>; renaming a type does not break recovery.
/// </summary>
public interface IJobEvent;

public static class JobEvents
{
    /// <param name="Pool">The pool the job was routed to (key <c>pools</c>), null for the default pool. Journaled rather than
    /// derived again from the labels after a restart: the ConfigMap may have changed meanwhile, and the job's VM, claimed from
    /// the pool named here, must still be the one it looks for. Left out of the JSON when null, so an unrouted job's event
    /// reads as before routing existed.</param>
    public sealed record JobSighted(
        long JobId,
        string Repo,
        ImmutableArray<string> Labels,
        long RunId,
        DateTimeOffset? QueuedAt,
        DateTimeOffset SeenAt,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Pool = null) : IJobEvent;

    /// <param name="VmUid">The VM's uid (null in journals from before uids were kept): every later write to the VM is guarded by it.</param>
    public sealed record VmClaimed(string VmName, DateTimeOffset ClaimedAt, string? VmUid = null) : IJobEvent;

    public sealed record RunnerRegistered(long RunnerId, string RunnerName) : IJobEvent;

    public sealed record RunnerStarted(DateTimeOffset StartedAt) : IJobEvent;

    /// <summary>The runner started for this job began running a job on GitHub: usually this job, another after a swap (GitHub
    /// gives a runner any queued job its labels cover). Recorded once per cycle.</summary>
    /// <param name="At">GitHub's <c>started_at</c> from a webhook delivery; with polling only, when the poll that saw the job
    /// leave the queue was sent (an upper bound, within one poll interval).</param>
    /// <param name="RanJobId">The job the runner ran, as a webhook names it; null when a poll inferred the start. Left out of
    /// the JSON when null.</param>
    public sealed record RunnerJobStarted(
        DateTimeOffset At,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? RanJobId = null) : IJobEvent;

    /// <summary>The VM was given up (SSH failed, host key mismatch, VM gone) and released; another will be claimed.</summary>
    public sealed record VmAbandoned(string VmName, string Reason, string? VmUid = null) : IJobEvent;

    public sealed record JobFinished(JobOutcome Outcome, string Reason, DateTimeOffset At) : IJobEvent;

    public sealed record VmReleased(string VmName, DateTimeOffset At) : IJobEvent;
}

/// <summary>
/// Published on the node's EventStream by <see cref="JobActor"/> after each persisted event, so metrics and inspection
/// follow the job lifecycle without the job code knowing about them.
/// </summary>
/// <param name="State">The job's state after the event.</param>
public sealed record JobEventPublished(long JobId, IJobEvent Event, JobState State) : INoSerializationVerificationNeeded;
