using System.Collections.Immutable;
using Blip.Actors.Shared;

namespace Blip.Actors.Jobs;

/// <summary>The state of one job, rebuilt from its events. Pure: no I/O, no clock.</summary>
public sealed partial record JobState
{
    public static readonly JobState Empty = new();

    public JobPhase Phase { get; init; } = JobPhase.New;
    public long JobId { get; init; }
    public RepoName? Repo { get; init; }
    public ImmutableArray<string> Labels { get; init; } = [];

    /// <summary>The pool the job's VM comes from, as routed when it was sighted; null: the default pool.</summary>
    public string? Pool { get; init; }
    public long RunId { get; init; }
    public DateTimeOffset? QueuedAt { get; init; }

    /// <summary>When the poll that started this cycle was sent: no VM was claimed for this cycle before then.</summary>
    public DateTimeOffset? SightedAt { get; init; }
    public string? VmName { get; init; }

    /// <summary>The claimed VM's uid: its name may be another VM's later (pool names are reused).</summary>
    public string? VmUid { get; init; }
    public DateTimeOffset? ClaimedAt { get; init; }
    public long? RunnerId { get; init; }
    public string? RunnerName { get; init; }
    public DateTimeOffset? RunnerStartedAt { get; init; }

    /// <summary>When this cycle's runner began running a job on GitHub (<see cref="JobEvents.RunnerJobStarted"/>): null until
    /// a webhook or a poll says so.</summary>
    public DateTimeOffset? JobStartedAt { get; init; }
    public JobOutcome? Outcome { get; init; }
    public string? Reason { get; init; }
    public int VmsAbandoned => AbandonedVms.Length;

    /// <summary>VMs given up for this job, by uid (by name for those given up before uids were kept): never adopted
    /// again, even while their release is still in flight.</summary>
    public ImmutableArray<string> AbandonedVms { get; init; } = [];

    /// <summary>VMs of this job's earlier cycles (its runner ran another job, then the job was taken up again), by uid: a VM
    /// serves one runner, so one is never adopted again, even while its release is still in flight or the inventory's view
    /// of it lags (a re-take within a second of the release adopted it and the VM powered off under the new runner's job).</summary>
    public ImmutableArray<string> SpentVms { get; init; } = [];

    /// <summary>Whether a VM carrying this job's session may be adopted for the current cycle: not one given up, not one of
    /// an earlier cycle.</summary>
    public bool MayAdopt(string vmName, string? vmUid) => !AbandonedVms.Contains(vmUid ?? vmName) && !SpentVms.Contains(vmUid ?? vmName);
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>How many times the job was taken up: more than once when a runner of ours ran another job instead.</summary>
    public int Cycles { get; init; }

    /// <summary>Whether a VM is held: claimed and not yet released.</summary>
    public bool HoldsVm => VmName is not null && Phase is JobPhase.Provisioning or JobPhase.Running or JobPhase.Releasing;

    public DateTimeOffset? HardCapAt(int maxDurationSeconds) => ClaimedAt?.AddSeconds(maxDurationSeconds);

    public JobState Apply(IJobEvent e) => e switch
    {
        JobEvents.JobSighted s => Empty with
        {
            Phase = JobPhase.Claiming,
            Cycles = Cycles + 1,
            AbandonedVms = AbandonedVms,
            SpentVms = VmName is null ? SpentVms : SpentVms.Add(VmUid ?? VmName),
            JobId = s.JobId,
            Repo = RepoName.Parse(s.Repo),
            Labels = s.Labels,
            Pool = s.Pool,
            RunId = s.RunId,
            QueuedAt = s.QueuedAt,
            SightedAt = s.SeenAt,
        },
        JobEvents.VmClaimed c => this with { Phase = JobPhase.Provisioning, VmName = c.VmName, VmUid = c.VmUid, ClaimedAt = c.ClaimedAt, RunnerId = null, RunnerName = null },
        JobEvents.RunnerRegistered r => this with { RunnerId = r.RunnerId, RunnerName = r.RunnerName },
        JobEvents.RunnerStarted s => this with { Phase = JobPhase.Running, RunnerStartedAt = s.StartedAt },
        JobEvents.RunnerJobStarted s => JobStartedAt is null ? this with { JobStartedAt = s.At } : this,
        JobEvents.VmAbandoned a => this with
        {
            Phase = JobPhase.Claiming,
            VmName = null,
            VmUid = null,
            ClaimedAt = null,
            RunnerId = null,
            RunnerName = null,
            AbandonedVms = AbandonedVms.Add(a.VmUid ?? a.VmName),
        },
        JobEvents.JobFinished f => this with
        {
            Phase = VmName is null ? JobPhase.Done : JobPhase.Releasing,
            Outcome = f.Outcome,
            Reason = f.Reason,
            FinishedAt = f.At,
        },
        JobEvents.VmReleased => this with { Phase = JobPhase.Done },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown job event"),
    };

    /// <summary>
    /// A sighting records the job only the first time: the natural dedup. One exception: our runner finished
    /// (it ran another job, as GitHub lets it) and a poll sent after that still sees this job queued; then the
    /// job is taken up again, or it would wait forever. Permanent failures are not retried.
    /// </summary>
    public IReadOnlyList<IJobEvent> OnSighted(JobCommands.Sighted s, DateTimeOffset now)
    {
        var takeUp = Phase == JobPhase.New
            || (Phase == JobPhase.Done && Outcome is JobOutcome.Completed or JobOutcome.Abandoned or JobOutcome.Expired
                && FinishedAt is { } finished && s.ObservedAt > finished);
        return takeUp ? [new JobEvents.JobSighted(s.JobId.Value, s.Repo.FullName, s.Labels, s.RunId, s.QueuedAt, now, s.Pool)] : [];
    }

    /// <summary>
    /// The job left the queue. Still claiming, this cycle is over: a VM claimed now would start a runner with
    /// nothing to run and hold the VM until the idle check (and, in a burst, keep it from a job that waits).
    /// Once a VM is claimed the runner may be the one that took the job: its own checks decide.
    /// </summary>
    public IReadOnlyList<IJobEvent> OnLeftQueue(DateTimeOffset now) =>
        Phase == JobPhase.Claiming ? [new JobEvents.JobFinished(JobOutcome.Abandoned, "the job left the queue before a VM was claimed", now)] : [];

    /// <summary>
    /// The job left the queue while our runner runs: most likely our runner took it. The first such poll of the cycle marks
    /// the job started, at the time the poll was sent (an upper bound: the job left the queue within one poll interval before).
    /// </summary>
    public IReadOnlyList<IJobEvent> OnLeftQueueWhileRunning(JobCommands.LeftQueue m) =>
        Phase == JobPhase.Running && JobStartedAt is null ? [new JobEvents.RunnerJobStarted(m.ObservedAt)] : [];

    /// <summary>The job's VM stopped or vanished. Before the runner started that VM is just lost; after, the runner is done.</summary>
    public IReadOnlyList<IJobEvent> OnVmStopped(JobCommands.VmStopped m, DateTimeOffset now)
    {
        if (m.VmName != VmName || (m.VmUid is not null && VmUid is not null && m.VmUid != VmUid))
        {
            return [];
        }

        return Phase switch
        {
            JobPhase.Running => [new JobEvents.JobFinished(JobOutcome.Completed, m.Deleted ? "VM deleted" : "runner finished, VM stopped", now)],
            // Started before a restart and already finished: the annotation is the record that it ran.
            JobPhase.Provisioning when m.RunnerProvisioned && !m.Deleted => [new JobEvents.JobFinished(JobOutcome.Completed, "runner finished, VM stopped", now)],
            JobPhase.Provisioning => [new JobEvents.VmAbandoned(m.VmName, m.Deleted ? "VM deleted before the runner started" : "VM stopped before the runner started")],
            _ => [],
        };
    }

    /// <summary>
    /// The job gives its VM up (released by the caller). Past <paramref name="maxVmsGivenUp"/> VMs over the job's life it
    /// stops claiming and fails: something breaks every VM it gets, and each one costs a registration and a boot.
    /// </summary>
    /// <param name="claimAgain">False when the job may have run already (see <see cref="ClaimsAgainAfter"/>): this cycle
    /// ends, and a later poll that still sees the job queued takes it up again (<see cref="OnSighted"/>).</param>
    public IReadOnlyList<IJobEvent> OnVmGivenUp(string vmName, string reason, int maxVmsGivenUp, DateTimeOffset now, bool claimAgain = true)
    {
        if (VmName != vmName || Phase != JobPhase.Provisioning)
        {
            return [];
        }

        var abandoned = new JobEvents.VmAbandoned(vmName, reason, VmUid);
        if (VmsAbandoned + 1 >= maxVmsGivenUp)
        {
            return [abandoned, new JobEvents.JobFinished(JobOutcome.Failed, $"gave up {VmsAbandoned + 1} VMs (Blip:MaxVmsGivenUpPerJob); last: {reason}", now)];
        }

        return claimAgain
            ? [abandoned]
            : [abandoned, new JobEvents.JobFinished(JobOutcome.Abandoned, $"{reason}; a runner may have run the job: taken up again only if a later poll still sees it queued", now)];
    }

    /// <summary>
    /// After a VM lost before the runner was known to start, claim another at once only if it was deleted. A VM that
    /// powered off by itself most likely ran a runner to its end (the runner image powers off when the runner exits) whose
    /// start was not recorded (the node died between the start and its record): claiming again would boot a runner with
    /// nothing to run and hold a VM for the idle grace. If the job is still queued, the next poll takes it up again.
    /// </summary>
    public static bool ClaimsAgainAfter(JobCommands.VmStopped m) => m.Deleted;

    /// <summary>Our runner's job completed (webhook): the runner is done, whichever job it ran.</summary>
    public IReadOnlyList<IJobEvent> OnRunnerJobCompleted(JobCommands.RunnerJobCompleted m, DateTimeOffset now) =>
        Phase is JobPhase.Running or JobPhase.Provisioning && RunnerName == m.RunnerName
            ? [new JobEvents.JobFinished(JobOutcome.Completed, $"runner ran job {m.RanJobId} to completion", now)]
            : [];

    /// <summary>Our runner began running a job (webhook <c>in_progress</c>), whichever job it took. Only this cycle's runner
    /// counts, and only its first delivery: a redelivery or a late one records nothing more.</summary>
    public IReadOnlyList<IJobEvent> OnRunnerJobStarted(JobCommands.RunnerJobStarted m, DateTimeOffset now) =>
        Phase is JobPhase.Running or JobPhase.Provisioning && RunnerName == m.RunnerName && JobStartedAt is null
            ? [new JobEvents.RunnerJobStarted(m.StartedAt ?? now, m.RanJobId)]
            : [];

    /// <summary>The Kubernetes Event an event of this job writes on its VM, if any (DESIGN: kubectl describe vm tells the story).</summary>
    public static (string Vm, string? VmUid, Vms.VmEvent Event)? VmEventFor(JobState before, JobState after, IJobEvent e) => e switch
    {
        JobEvents.VmClaimed c => (c.VmName, c.VmUid, new Vms.VmEvent("Claimed", $"claimed for job {after.JobId} of {after.Repo}")),
        JobEvents.RunnerStarted when after.VmName is { } vm => (vm, after.VmUid, new Vms.VmEvent("RunnerStarted", $"JIT runner {after.RunnerName} started for job {after.JobId}")),
        JobEvents.VmAbandoned a => (a.VmName, a.VmUid, new Vms.VmEvent("ProvisioningFailed", $"given up for job {before.JobId}: {a.Reason}", Warning: true)),
        JobEvents.JobFinished f when before.VmName is { } vm => (vm, before.VmUid, new Vms.VmEvent("Releasing", $"job {after.JobId}: {f.Outcome} ({f.Reason})", Warning: f.Outcome is JobOutcome.Failed or JobOutcome.Expired)),
        _ => null,
    };

    public JobQueries.Status ToStatus() =>
        new(new JobId(JobId), Phase, Repo?.FullName, VmName, RunnerId, RunnerName, Outcome, Reason);
}
