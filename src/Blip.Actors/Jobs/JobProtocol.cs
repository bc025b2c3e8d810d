using System.Collections.Immutable;
using Blip.Actors.Shared;

namespace Blip.Actors.Jobs;

/// <summary>Read by the shard message extractor.</summary>
public interface IWithJobId
{
    JobId JobId { get; }
}

/// <summary>What a job actor is told.</summary>
public static class JobCommands
{
    /// <summary>A poll (or webhook) saw the job queued with matching labels. Repeats are harmless.</summary>
    /// <param name="ObservedAt">When the poll that saw it was sent: a sighting older than our runner's end says nothing new.</param>
    /// <param name="Pool">The VM pool a label of key <c>pools</c> routed the job to; null for the default pool (<c>Blip:Pool</c>).</param>
    public sealed record Sighted(JobId JobId, RepoName Repo, ImmutableArray<string> Labels, long RunId, DateTimeOffset? QueuedAt, DateTimeOffset ObservedAt, string? Pool = null) : IWithJobId;

    /// <summary>The job's VM stopped (its runner exited) or was deleted. A free signal from the VM watch.</summary>
    /// <param name="RunnerProvisioned">The VM carried <c>blip.io/runner-provisioned=true</c>: a runner was started on it.</param>
    /// <param name="VmUid">The stopped VM's uid: a VM of the same name made later is not the one that stopped.</param>
    public sealed record VmStopped(JobId JobId, string VmName, bool Deleted, bool RunnerProvisioned = false, string? VmUid = null) : IWithJobId;

    /// <summary>A webhook said the job a runner of ours ran is completed: that runner is done.</summary>
    /// <param name="JobId">The job the runner was made for (from its name), not necessarily the one it ran.</param>
    public sealed record RunnerJobCompleted(JobId JobId, string RunnerName, long RanJobId) : IWithJobId;

    /// <summary>A webhook said a runner of ours began running a job (action <c>in_progress</c>).</summary>
    /// <param name="JobId">The job the runner was made for (from its name), not necessarily the one it runs.</param>
    /// <param name="StartedAt">The delivery's <c>workflow_job.started_at</c>; null when it carried none.</param>
    public sealed record RunnerJobStarted(JobId JobId, string RunnerName, long RanJobId, DateTimeOffset? StartedAt) : IWithJobId;

    /// <summary>A poll no longer saw the job queued (a runner took it, maybe not ours, or it was cancelled). While claiming it
    /// ends the cycle; once our runner is being started or runs, it marks the job started (<see cref="JobEvents.RunnerJobStarted"/>).</summary>
    /// <param name="ObservedAt">When that poll was sent: it says nothing about a sighting from a later poll.</param>
    public sealed record LeftQueue(JobId JobId, DateTimeOffset ObservedAt) : IWithJobId;

    /// <summary>From the janitor: this VM carries <c>actions-&lt;jobId&gt;</c>. Wakes the actor after a restart.</summary>
    /// <param name="ClaimedAt">The VM's <c>blip.io/claimed-at</c> as found (unparsed), for an adoption.</param>
    /// <param name="VmUid">The VM's uid as found.</param>
    /// <param name="ReleaseRequested">The VM carries <c>blip.io/release=true</c>: it is finished off, never adopted.</param>
    public sealed record Reconcile(JobId JobId, string VmName, string? ClaimedAt = null, string? VmUid = null, bool ReleaseRequested = false) : IWithJobId;

    /// <summary>From the <see cref="JobRetentionSweeper"/>: the job finished a retention ago; if it is still done, its events
    /// are deleted and the sender hears <see cref="JobRetentionSweeper.EventsDeleted"/>.</summary>
    public sealed record Forget(JobId JobId) : IWithJobId;
}

public static class JobQueries
{
    public sealed record GetStatus(JobId JobId) : IWithJobId;

    public sealed record Status(JobId JobId, JobPhase Phase, string? Repo, string? VmName, long? RunnerId, string? RunnerName, JobOutcome? Outcome, string? Reason);
}

public enum JobPhase
{
    New,
    Claiming,
    Provisioning,
    Running,
    Releasing,
    Done,
}

public enum JobOutcome
{
    /// <summary>The runner ran and finished.</summary>
    Completed,

    /// <summary>A permanent error (e.g. generate-jitconfig 403).</summary>
    Failed,

    /// <summary>The hard cap (claimed-at + max-duration) fired.</summary>
    Expired,

    /// <summary>The job left the queue (ran elsewhere, cancelled) before our runner took anything.</summary>
    Abandoned,
}
