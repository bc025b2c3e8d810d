using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Blip.Actors.Runners;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>
/// Every decision of a job, one input at a time. The job actor does nothing else with an input: it persists the
/// decision's events, applies them, performs its effects, and drives the new phase (children and timers).
/// </summary>
/// <remarks>
/// The lifecycle (DESIGN.md §5):
/// <code>
///   New ──sighted──▶ Claiming ──VM claimed──▶ Provisioning ──runner started──▶ Running
///                      ▲   │                     │  │                            │
///                      │   │ left the queue,     │  │ finished (JIT refused,     │ finished (VM stopped, runner
///                      │   │ no VMs left         │  │ hard cap, VMs used up)     │ gone or idle, hard cap)
///                      │   ▼                     │  ▼                            ▼
///                      │  Done ◀──VM released── Releasing ◀──────────────────────┘
///                      └── VM given up (SSH failed, VM lost) ──┘
///   Provisioning and Running record once per cycle that the runner began running a job (RunnerJobStarted): a webhook's
///   in_progress naming our runner, or a poll that no longer sees the job queued.
///   Done is a tombstone; only a poll sent after our runner finished that still sees the job queued takes it up again.
///   A retention after it finished (Blip:JobRetention) its events are deleted; then a sighting of a job queued longer
///   ago than the retention is ignored (JobState.Retention.cs).
/// </code>
/// </remarks>
public sealed partial record JobState
{
    public JobDecision Decide(object input, JobMemory memory, DateTimeOffset now) => DeletingUnusedRegistrations(input switch
    {
        JobCommands.Sighted m when IsTooOld(this, m, memory, now) => IgnoreTooOld(m, memory),
        JobCommands.Sighted m => DecideSighted(m, memory, now),
        JobCommands.LeftQueue m when m.ObservedAt > memory.LastSightingPolledAt && Phase == JobPhase.Running => DecideJobStarted(OnLeftQueueWhileRunning(m), memory),
        JobCommands.LeftQueue m when m.ObservedAt > memory.LastSightingPolledAt && Phase == JobPhase.Provisioning && VmName is { } vm =>
            JobDecision.Nothing(memory with { LeftQueueWhileStarting = memory.LeftQueueWhileStarting ?? (VmUid ?? vm, m.ObservedAt) }),
        JobCommands.LeftQueue m when m.ObservedAt > memory.LastSightingPolledAt => StopClaiming(memory, now),
        JobCommands.LeftQueue => JobDecision.Nothing(memory),
        JobCommands.VmStopped m => DecideVmStopped(m, memory, now),
        JobCommands.Reconcile m => DecideReconcile(m, memory, now),
        JobCommands.RunnerJobStarted m => DecideJobStarted(OnRunnerJobStarted(m, now), memory),
        JobCommands.RunnerJobCompleted m => new(OnRunnerJobCompleted(m, now), [], memory),
        JobCommands.Forget => DecideForget(memory, now),
        JobQueries.GetStatus => new([], [new JobEffect.Reply(ToStatus())], memory),
        JobInputs.ChildReport m => DecideChildReport(m, memory, now),
        JobInputs.HardCap => DecideHardCap(memory, now),
        JobInputs.CheckSighting when now - memory.LastSightedAt > memory.Limits.QueuedSightingTimeout => StopClaiming(memory, now),
        JobInputs.CheckSighting => JobDecision.Nothing(memory),
        JobInputs.CheckRunner => DecideCheckRunner(memory, now),
        JobInputs.RunnerChecked m => DecideRunnerChecked(m, memory with { CheckingRunner = false }, now),
        JobInputs.StartRelease => DecideStartRelease(memory),
        JobInputs.ReleaseDone m => DecideReleaseDone(m, memory with { ReleasingVm = false }, now),
        ReceiveTimeout => new([], Phase is JobPhase.Done or JobPhase.New ? [new JobEffect.Passivate()] : [], memory),
        RecoveryCompleted => JobDecision.Nothing(memory with { Recovered = Phase != JobPhase.New }),
        _ => throw new ArgumentOutOfRangeException(nameof(input), input.GetType().Name, "not an input of a job"),
    });

    /// <summary>
    /// A cycle that ends in Provisioning without its runner having run (given up, JIT refused, capped) may leave
    /// registrations of this job behind that no one else knows of: made before a crash and never journaled, or made by a
    /// bootstrapper recovered into Provisioning and stopped before its sweep. The job owns them: it deletes every one that
    /// is not busy. (A stopped bootstrapper deletes its own too, once its call in flight lands; a new cycle starts only
    /// after a later sighting, so nothing of it exists yet.)
    /// </summary>
    private JobDecision DeletingUnusedRegistrations(JobDecision decision) =>
        Phase == JobPhase.Provisioning && decision.Events.Any(e => e is JobEvents.JobFinished { Outcome: not JobOutcome.Completed })
            ? decision with { Effects = [.. decision.Effects, new JobEffect.DeleteUnusedRegistrations()] }
            : decision;

    private JobDecision DecideSighted(JobCommands.Sighted m, JobMemory memory, DateTimeOffset now)
    {
        memory = memory with
        {
            LastSightedAt = now,
            LastSightingPolledAt = m.ObservedAt > memory.LastSightingPolledAt ? m.ObservedAt : memory.LastSightingPolledAt,
        };
        var events = OnSighted(m, now);
        if (events.Count == 0)
        {
            return JobDecision.Nothing(memory);
        }

        var line = Phase == JobPhase.New
            ? $"job {m.JobId} ({m.Repo}): queued with labels [{string.Join(",", m.Labels)}]; claiming a VM"
            : $"job {m.JobId} ({m.Repo}): still queued after our runner ran another job; taking it up again";
        return new(events, [Info(line)], memory);
    }

    /// <summary>The job is no longer queued: a claim in progress stops (a claim that still lands is released when it reports).</summary>
    private JobDecision StopClaiming(JobMemory memory, DateTimeOffset now)
    {
        var events = OnLeftQueue(now);
        return events.Count == 0
            ? JobDecision.Nothing(memory)
            : new(events, [Info($"job {JobId} ({Repo}): no longer queued (a runner took it or it was cancelled); stopped claiming a VM"), new JobEffect.StopChild()], memory);
    }

    /// <summary>The runner began running a job: logged with the gap since its start (the stage a runner that never gets its
    /// job stays in).</summary>
    private JobDecision DecideJobStarted(IReadOnlyList<IJobEvent> events, JobMemory memory)
    {
        if (events is not [JobEvents.RunnerJobStarted started])
        {
            return JobDecision.Nothing(memory);
        }

        var gap = RunnerStartedAt is { } runnerStarted ? Math.Max(0, (started.At - runnerStarted).TotalSeconds) : 0;
        var line = started.RanJobId is { } ran
            ? $"job {JobId} ({Repo}): runner {RunnerName} began running job {ran}, {gap:F1} s after it started"
            : $"job {JobId} ({Repo}): left the queue while runner {RunnerName} runs; taken as started, at most {gap:F1} s after the runner";
        return new(events, [Info(line)], memory);
    }

    private JobDecision DecideVmStopped(JobCommands.VmStopped m, JobMemory memory, DateTimeOffset now)
    {
        var events = OnVmStopped(m, now);
        if (events is [JobEvents.VmAbandoned abandoned])
        {
            // A stopped VM still carries our session: it is released like any VM given up.
            var giveUp = GiveUpVm(abandoned.Reason, ClaimsAgainAfter(m), memory, now);
            return giveUp with { Effects = [new JobEffect.StopChild(), .. giveUp.Effects] };
        }

        return new(events, [], memory);
    }

    private JobDecision GiveUpVm(string reason, bool claimAgain, JobMemory memory, DateTimeOffset now)
    {
        if (VmName is not { } vm)
        {
            return JobDecision.Nothing(memory);
        }

        var events = OnVmGivenUp(vm, reason, memory.Limits.MaxVmsGivenUpPerJob, now, claimAgain);
        if (events.Count == 0)
        {
            return JobDecision.Nothing(memory);
        }

        JobEffect line = events switch
        {
            [_, JobEvents.JobFinished { Outcome: JobOutcome.Abandoned }] => Warning(
                $"job {JobId}: giving VM {vm} up ({reason}); releasing it; a runner may have run the job, so it is taken up again only if a later poll still sees it queued"),
            [_, _] => new JobEffect.Log(LogLevel.ErrorLevel,
                $"job {JobId} ({Repo}): giving VM {vm} up ({reason}); that is {VmsAbandoned + 1} VMs given up, the most one job may (Blip:MaxVmsGivenUpPerJob): releasing it and failing the job"),
            _ => Warning($"job {JobId}: giving VM {vm} up ({reason}); releasing it and claiming another"),
        };
        return new(events, [line, new JobEffect.ReleaseVm(vm, VmUid)], memory);
    }

    private JobDecision DecideReconcile(JobCommands.Reconcile m, JobMemory memory, DateTimeOffset now)
    {
        switch (Phase)
        {
            case JobPhase.Claiming when m.ReleaseRequested:
                // Released before (a crash between the release mark and the delete): never adopted, only finished off.
                return new([], [Info($"job {JobId}: VM {m.VmName} carries this job's session but is marked {VmAnnotations.Release}; deleting it, not adopting it"),
                    new JobEffect.ReleaseVm(m.VmName, m.VmUid)], memory);
            case JobPhase.Claiming when MayAdopt(m.VmName, m.VmUid):
                var sightedAt = SightedAt ?? now;
                var claimedAt = VmAnnotations.ClaimTimeOf(m.ClaimedAt, sightedAt, now, out var problem);
                List<JobEffect> effects = [Info($"job {JobId}: VM {m.VmName} already carries this job's session; adopting it"), new JobEffect.StopChild()];
                if (problem is not null)
                {
                    effects.Add(Warning($"job {JobId}: VM {m.VmName}: {problem}; counting its hard cap from {claimedAt:O}"));
                }

                return new([new JobEvents.VmClaimed(m.VmName, claimedAt, m.VmUid)], effects, memory);
            case JobPhase.Provisioning or JobPhase.Running when m.VmName == VmName && (m.VmUid is null || VmUid is null || m.VmUid == VmUid):
                return JobDecision.Nothing(memory); // Awake again: timers run from the actor's drive.
            default:
                // No record of this job, a second VM for it, or the job is finished: the VM is not in use.
                return new([], [Info($"job {JobId}: VM {m.VmName} is claimed for this job but not in use ({Phase}); releasing it"),
                    new JobEffect.ReleaseVm(m.VmName, m.VmUid)], memory);
        }
    }

    private JobDecision DecideChildReport(JobInputs.ChildReport m, JobMemory memory, DateTimeOffset now)
    {
        if (m.Report is VmClaimer.Claimed claimed)
        {
            return Phase == JobPhase.Claiming && m.FromCurrentChild
                ? new([new JobEvents.VmClaimed(claimed.VmName, claimed.ClaimedAt, claimed.VmUid)], [new JobEffect.ForgetChild()], memory)
                : new([], [new JobEffect.ReleaseVm(claimed.VmName, claimed.VmUid)], memory); // a claim that finished after the job moved on
        }

        if (Phase != JobPhase.Provisioning || !m.FromCurrentChild)
        {
            return JobDecision.Nothing(memory); // only the current bootstrapper, while provisioning, is listened to
        }

        JobEffect forget = new JobEffect.ForgetChild();
        return m.Report switch
        {
            RunnerBootstrapper.Registered r => new([new JobEvents.RunnerRegistered(r.RunnerId, r.RunnerName)], [], memory),
            RunnerBootstrapper.Started s => RunnerStartedDecision(s.At, memory) is var d ? d with { Effects = [forget, .. PickupLine(s.At), .. d.Effects] } : d,
            RunnerBootstrapper.JitFailed f => new([new JobEvents.JobFinished(JobOutcome.Failed, "failed to create JIT runner config: " + f.Reason, now)], [forget], memory),
            RunnerBootstrapper.GaveUpOnVm g => GiveUpVm(g.Reason, claimAgain: true, memory, now) is var d ? d with { Effects = [forget, .. d.Effects] } : d,
            _ => throw new ArgumentOutOfRangeException(nameof(m), m.Report.GetType().Name, "not a report of a job's child"),
        };
    }

    /// <summary>The runner started; if a poll saw the job leave the queue while it was being started, the job started too
    /// (as it would have been recorded had the poll come a moment later, see <see cref="OnLeftQueueWhileRunning"/>).</summary>
    private JobDecision RunnerStartedDecision(DateTimeOffset at, JobMemory memory)
    {
        var runnerStarted = new JobEvents.RunnerStarted(at);
        if (memory.LeftQueueWhileStarting is not { } left || left.Vm != (VmUid ?? VmName) || JobStartedAt is not null)
        {
            return new([runnerStarted], [], memory with { LeftQueueWhileStarting = null });
        }

        var started = Apply(runnerStarted).DecideJobStarted([new JobEvents.RunnerJobStarted(left.At)], memory with { LeftQueueWhileStarting = null });
        return started with { Events = [runnerStarted, .. started.Events] };
    }

    private IEnumerable<JobEffect> PickupLine(DateTimeOffset startedAt) => QueuedAt is { } queued
        ? [Info($"job {JobId} ({Repo}): runner {RunnerName} running on VM {VmName}; pickup latency {(startedAt - queued).TotalSeconds:F1} s")]
        : [];

    private JobDecision DecideHardCap(JobMemory memory, DateTimeOffset now)
    {
        if (Phase is not (JobPhase.Provisioning or JobPhase.Running))
        {
            return JobDecision.Nothing(memory);
        }

        var cap = memory.Limits.MaxDurationSeconds;
        List<JobEffect> effects = [Warning($"job {JobId}: VM {VmName} reached the hard cap of {cap} s (claimed at {ClaimedAt:O}); releasing it"), new JobEffect.StopChild()];
        if (RunnerId is { } runnerId)
        {
            effects.Add(new JobEffect.DeleteRunner(runnerId));
        }

        return new([new JobEvents.JobFinished(JobOutcome.Expired, $"hard cap of {cap} s", now)], effects, memory);
    }

    /// <summary>The backstop when no free signal (VM stopped) came: is our runner still there, and is it doing anything?</summary>
    private JobDecision DecideCheckRunner(JobMemory memory, DateTimeOffset now)
    {
        if (Phase != JobPhase.Running || RunnerId is not { } runnerId || memory.CheckingRunner)
        {
            return JobDecision.Nothing(memory);
        }

        // Until the grace has passed nothing a GET could show calls for action but a deregistered runner, and the VM's stop
        // (free) says that first: a job shorter than the grace costs no runner GET.
        var grace = memory.Limits.IdleRunnerGrace;
        if (RunnerStartedAt is { } started && now - started < grace)
        {
            return JobDecision.Nothing(memory);
        }

        var idlePastGrace = now - memory.LastSightedAt > grace && now - (RunnerStartedAt ?? now) > grace;
        return new([], [new JobEffect.CheckRunner(runnerId, idlePastGrace)], memory with { CheckingRunner = true });
    }

    private JobDecision DecideRunnerChecked(JobInputs.RunnerChecked m, JobMemory memory, DateTimeOffset now)
    {
        if (Phase != JobPhase.Running || m.RunnerId != RunnerId)
        {
            return JobDecision.Nothing(memory); // about a runner of an earlier cycle: only its check in flight ends
        }

        if (m.Outcome is { } outcome)
        {
            return new([new JobEvents.JobFinished(outcome, m.Reason!, now)], [], memory);
        }

        return m.Reason is not null
            ? new([], [Warning($"job {JobId}: runner check failed ({m.Reason}); will check again")], memory)
            : JobDecision.Nothing(memory);
    }

    private JobDecision DecideStartRelease(JobMemory memory)
    {
        if (Phase != JobPhase.Releasing || memory.ReleasingVm || VmName is not { } vm)
        {
            return JobDecision.Nothing(memory);
        }

        return new([], [Info($"job {JobId}: {Outcome} ({Reason}); releasing VM {vm}"), new JobEffect.ReleaseOwnVm(vm, VmUid)], memory with { ReleasingVm = true });
    }

    private JobDecision DecideReleaseDone(JobInputs.ReleaseDone m, JobMemory memory, DateTimeOffset now)
    {
        if (m.Error is not null && Phase == JobPhase.Releasing)
        {
            return new([], [Warning($"job {JobId}: releasing VM {m.VmName} failed ({m.Error}); retrying"), new JobEffect.RetryReleaseAfter(TimeSpan.FromSeconds(2))], memory);
        }

        return Phase == JobPhase.Releasing && VmName == m.VmName
            ? new([new JobEvents.VmReleased(m.VmName, now)], [], memory)
            : JobDecision.Nothing(memory);
    }

    private static JobEffect Info(string message) => new JobEffect.Log(LogLevel.InfoLevel, message);

    private static JobEffect Warning(string message) => new JobEffect.Log(LogLevel.WarningLevel, message);
}
