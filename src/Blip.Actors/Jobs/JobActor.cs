using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Blip.Actors.Runners;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>
/// The single authority for one GitHub job (sharded by job id, persistent). Lifecycle (DESIGN.md §5):
/// Claiming → Provisioning(vm) → Running(runner) → Releasing → Done. Every step is driven from the persisted
/// state (level-triggered), so a restart at any point resumes where the journal says; the VM's
/// <c>blip.io/session-id</c> settles "which VM is mine". Done is a tombstone: later sightings change nothing.
/// </summary>
public sealed class JobActor : ReceivePersistentActor, IWithTimers
{
    private const string HardCapTimer = "hard-cap";
    private const string RunnerCheckTimer = "runner-check";
    private const string SightingCheckTimer = "sighting-check";
    private const string ReleaseRetryTimer = "release-retry";
    private static readonly TimeSpan TombstoneIdle = TimeSpan.FromSeconds(30);

    private readonly JobDependencies _deps;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly long _jobId;
    private JobState _state = JobState.Empty;
    private IActorRef? _child;
    private DateTimeOffset _lastSighted = DateTimeOffset.UtcNow;

    // When the poll behind the latest sighting was sent: a "left the queue" from an older poll is stale.
    private DateTimeOffset _lastSightingPolledAt = DateTimeOffset.MinValue;
    private bool _releasing;
    private bool _checkingRunner;
    private bool _loggedStart;

    // This incarnation resumed a job from the journal: work from before the stop may have left traces.
    private bool _recovered;

    public JobActor(string entityId, JobDependencies deps)
    {
        _deps = deps;
        _jobId = long.Parse(entityId, System.Globalization.CultureInfo.InvariantCulture);
        PersistenceId = $"job-{entityId}";

        Recover<IJobEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            _recovered = _state.Phase != JobPhase.New;
            Drive();
        });

        Command<JobCommands.Sighted>(OnSighted);
        Command<JobCommands.LeftQueue>(OnLeftQueue);
        Command<JobCommands.VmStopped>(m =>
        {
            var events = _state.OnVmStopped(m, DateTimeOffset.UtcNow);
            if (events is [JobEvents.VmAbandoned abandoned])
            {
                StopChild();
                // Logs it and releases the VM (a stopped one still carries our session).
                AbandonVm(abandoned.Reason, JobState.ClaimsAgainAfter(m));
                return;
            }

            PersistAll(events);
        });
        Command<JobCommands.Reconcile>(OnReconcile);
        Command<JobCommands.RunnerJobCompleted>(m => PersistAll(_state.OnRunnerJobCompleted(m, DateTimeOffset.UtcNow)));
        Command<JobQueries.GetStatus>(_ => Sender.Tell(_state.ToStatus()));

        Command<VmClaimer.Claimed>(m =>
        {
            if (_state.Phase == JobPhase.Claiming && Sender.Equals(_child))
            {
                _child = null;
                PersistAll([new JobEvents.VmClaimed(m.VmName, m.ClaimedAt, m.VmUid)]);
            }
            else
            {
                ReleaseQuietly(m.VmName, m.VmUid); // a claim that finished after the job moved on
            }
        });
        Command<RunnerBootstrapper.Registered>(m => FromBootstrapper(() => PersistAll([new JobEvents.RunnerRegistered(m.RunnerId, m.RunnerName)]), keepChild: true));
        Command<RunnerBootstrapper.Started>(m => FromBootstrapper(() => PersistAll([new JobEvents.RunnerStarted(m.At)])));
        Command<RunnerBootstrapper.JitFailed>(m => FromBootstrapper(() => PersistAll([new JobEvents.JobFinished(JobOutcome.Failed, "failed to create JIT runner config: " + m.Reason, DateTimeOffset.UtcNow)])));
        Command<RunnerBootstrapper.GaveUpOnVm>(m => FromBootstrapper(() => AbandonVm(m.Reason)));

        Command<HardCap>(_ => OnHardCap());
        Command<CheckRunner>(_ => OnCheckRunner());
        Command<RunnerChecked>(OnRunnerChecked);
        Command<CheckSighting>(_ => OnCheckSighting());
        Command<ReleaseDone>(OnReleaseDone);
        Command<ReleaseRetry>(_ => Release());
        Command<ReceiveTimeout>(_ =>
        {
            if (_state.Phase is JobPhase.Done or JobPhase.New)
            {
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            }
        });
        CommandAny(Unhandled);
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, JobDependencies deps) =>
        Akka.Actor.Props.Create(() => new JobActor(entityId, deps));

    private void OnSighted(JobCommands.Sighted m)
    {
        _lastSighted = DateTimeOffset.UtcNow;
        if (m.ObservedAt > _lastSightingPolledAt)
        {
            _lastSightingPolledAt = m.ObservedAt;
        }

        var events = _state.OnSighted(m, _lastSighted);
        if (events.Count > 0)
        {
            _log.Info(_state.Phase == JobPhase.New
                ? $"job {_jobId} ({m.Repo}): queued with labels [{string.Join(",", m.Labels)}]; claiming a VM"
                : $"job {_jobId} ({m.Repo}): still queued after our runner ran another job; taking it up again");
            _loggedStart = false;
        }

        PersistAll(events);
    }

    private void OnReconcile(JobCommands.Reconcile m)
    {
        switch (_state.Phase)
        {
            case JobPhase.Claiming when m.ReleaseRequested:
                // Released before (a crash between the release mark and the delete): never adopted, only finished off.
                _log.Info("job {0}: VM {1} carries this job's session but is marked {2}; deleting it, not adopting it", _jobId, m.VmName, VmAnnotations.Release);
                ReleaseQuietly(m.VmName, m.VmUid);
                break;
            case JobPhase.Claiming when !_state.AbandonedVms.Contains(m.VmUid ?? m.VmName):
                _log.Info("job {0}: VM {1} already carries this job's session; adopting it", _jobId, m.VmName);
                StopChild();
                var claimedAt = VmClaimer.AdoptedClaimTime(_log, _jobId, m.VmName, m.ClaimedAt, _state.SightedAt ?? DateTimeOffset.UtcNow);
                PersistAll([new JobEvents.VmClaimed(m.VmName, claimedAt, m.VmUid)]);
                break;
            case JobPhase.Provisioning or JobPhase.Running when m.VmName == _state.VmName && (m.VmUid is null || _state.VmUid is null || m.VmUid == _state.VmUid):
                break; // Awake again: timers run from Drive().
            default:
                // No record of this job, a second VM for it, or the job is finished: the VM is not in use.
                _log.Info("job {0}: VM {1} is claimed for this job but not in use ({2}); releasing it", _jobId, m.VmName, _state.Phase);
                ReleaseQuietly(m.VmName, m.VmUid);
                break;
        }
    }

    /// <summary>Only the current bootstrapper, while provisioning, is listened to.</summary>
    private void FromBootstrapper(Action handle, bool keepChild = false)
    {
        if (_state.Phase == JobPhase.Provisioning && Sender.Equals(_child))
        {
            if (!keepChild)
            {
                _child = null;
            }

            handle();
        }
    }

    private void AbandonVm(string reason, bool claimAgain = true)
    {
        var vm = _state.VmName;
        if (vm is null)
        {
            return;
        }

        var events = _state.OnVmGivenUp(vm, reason, _deps.Options.MaxVmsGivenUpPerJob, DateTimeOffset.UtcNow, claimAgain);
        if (events.Count == 0)
        {
            return;
        }

        if (events is [_, JobEvents.JobFinished { Outcome: JobOutcome.Abandoned }])
        {
            _log.Warning("job {0}: giving VM {1} up ({2}); releasing it; a runner may have run the job, so it is taken up again only if a later poll still sees it queued",
                _jobId, vm, reason);
        }
        else if (events.Count > 1)
        {
            _log.Error("job {0} ({1}): giving VM {2} up ({3}); that is {4} VMs given up, the most one job may (Blip:MaxVmsGivenUpPerJob): releasing it and failing the job",
                _jobId, _state.Repo, vm, reason, _state.VmsAbandoned + 1);
        }
        else
        {
            _log.Warning("job {0}: giving VM {1} up ({2}); releasing it and claiming another", _jobId, vm, reason);
        }

        ReleaseQuietly(vm, _state.VmUid);
        PersistAll(events);
    }

    private void PersistAll(IReadOnlyList<IJobEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        var remaining = events.Count;
        PersistAll(events, e =>
        {
            var previous = _state;
            var before = _state.Phase;
            _state = _state.Apply(e);
            if (JobState.VmEventFor(previous, _state, e) is { } vmEvent)
            {
                _ = _deps.Pool.RecordEventAsync(vmEvent.Vm, vmEvent.VmUid, vmEvent.Event, CancellationToken.None);
            }

            Context.System.EventStream.Publish(new Inspection.JobEventPublished(_jobId, e, _state));
            if (_state.Phase != before)
            {
                StopChild(); // each phase has its own child; the old one's late reports must not count
            }

            if (--remaining == 0)
            {
                Drive();
            }
        });
    }

    /// <summary>Makes the world match the state: the one place where a phase starts its work.</summary>
    private void Drive()
    {
        SetReceiveTimeout(_state.Phase is JobPhase.Done or JobPhase.New ? TombstoneIdle : null);
        if (_state.ClaimedAt is not null && _state.Phase is JobPhase.Provisioning or JobPhase.Running)
        {
            var due = _state.HardCapAt(_deps.Options.MaxDurationSeconds)!.Value - DateTimeOffset.UtcNow;
            Timers.StartSingleTimer(HardCapTimer, HardCap.Instance, due > TimeSpan.Zero ? due : TimeSpan.Zero);
        }
        else
        {
            Timers.Cancel(HardCapTimer);
        }

        switch (_state.Phase)
        {
            case JobPhase.Claiming:
                Timers.StartPeriodicTimer(SightingCheckTimer, CheckSighting.Instance, TimeSpan.FromSeconds(5));
                if (_child is null)
                {
                    _child = Context.ActorOf(VmClaimer.Props(_jobId, _state.Repo!, _state.SightedAt ?? DateTimeOffset.UtcNow, _deps, _state.AbandonedVms.ToHashSet()), $"claim-{_state.VmsAbandoned}-{Guid.NewGuid().ToString("N")[..6]}");
                }

                break;
            case JobPhase.Provisioning:
                Timers.Cancel(SightingCheckTimer);
                if (_child is null)
                {
                    _child = Context.ActorOf(
                        RunnerBootstrapper.Props(_deps.Runners, _jobId, _state.Repo!, _state.Labels, _state.VmName!, _state.VmUid, _state.RunnerId, sweepStale: _recovered || _state.VmsAbandoned > 0),
                        $"bootstrap-{_state.VmsAbandoned}-{Guid.NewGuid().ToString("N")[..6]}");
                }

                break;
            case JobPhase.Running:
                Timers.Cancel(SightingCheckTimer);
                if (!Timers.IsTimerActive(RunnerCheckTimer))
                {
                    Timers.StartPeriodicTimer(RunnerCheckTimer, CheckRunner.Instance, _deps.Options.RunnerCheckInterval);
                }

                if (_state.RunnerStartedAt is { } started && _state.QueuedAt is { } queued && !_loggedStart)
                {
                    _loggedStart = true;
                    _log.Info("job {0} ({1}): runner {2} running on VM {3}; pickup latency {4:F1} s",
                        _jobId, _state.Repo, _state.RunnerName, _state.VmName, (started - queued).TotalSeconds);
                }

                break;
            case JobPhase.Releasing:
                StopTimers();
                StopChild();
                Release();
                break;
            case JobPhase.Done:
                StopTimers();
                StopChild();
                break;
        }
    }

    private void OnCheckSighting()
    {
        if (DateTimeOffset.UtcNow - _lastSighted > _deps.Options.QueuedSightingTimeout)
        {
            GiveUpIfClaiming();
        }
    }

    private void OnLeftQueue(JobCommands.LeftQueue m)
    {
        if (m.ObservedAt > _lastSightingPolledAt)
        {
            GiveUpIfClaiming();
        }
    }

    /// <summary>The job is no longer queued: a claim in progress stops (a claim that still lands is released when it reports).</summary>
    private void GiveUpIfClaiming()
    {
        var events = _state.OnLeftQueue(DateTimeOffset.UtcNow);
        if (events.Count > 0)
        {
            _log.Info("job {0} ({1}): no longer queued (a runner took it or it was cancelled); stopped claiming a VM", _jobId, _state.Repo);
            StopChild();
            PersistAll(events);
        }
    }

    private void OnHardCap()
    {
        if (_state.Phase is not (JobPhase.Provisioning or JobPhase.Running))
        {
            return;
        }

        _log.Warning("job {0}: VM {1} reached the hard cap of {2} s (claimed at {3:O}); releasing it", _jobId, _state.VmName, _deps.Options.MaxDurationSeconds, _state.ClaimedAt);
        StopChild();
        DeleteRunnerQuietly();
        PersistAll([new JobEvents.JobFinished(JobOutcome.Expired, $"hard cap of {_deps.Options.MaxDurationSeconds} s", DateTimeOffset.UtcNow)]);
    }

    /// <summary>The backstop when no free signal (VM stopped) came: is our runner still there, and is it doing anything?</summary>
    private void OnCheckRunner()
    {
        if (_state.Phase != JobPhase.Running || _state.RunnerId is not { } runnerId || _checkingRunner)
        {
            return;
        }

        _checkingRunner = true;
        var idlePastGrace = DateTimeOffset.UtcNow - _lastSighted > _deps.Options.IdleRunnerGrace
            && DateTimeOffset.UtcNow - (_state.RunnerStartedAt ?? DateTimeOffset.UtcNow) > _deps.Options.IdleRunnerGrace;
        var gitHub = _deps.GitHub;
        var repo = _state.Repo!;
        CheckAsync().PipeTo(Self, failure: e => new RunnerChecked(null, e.Message));

        async Task<RunnerChecked> CheckAsync()
        {
            var runner = await gitHub.GetRunnerAsync(repo, runnerId, CancellationToken.None).ConfigureAwait(false);
            if (runner is null)
            {
                return new RunnerChecked(JobOutcome.Completed, "runner deregistered");
            }

            if (runner.Busy || !idlePastGrace)
            {
                return new RunnerChecked(null, null);
            }

            var deleted = await gitHub.DeleteRunnerAsync(repo, runnerId, CancellationToken.None).ConfigureAwait(false);
            return deleted == DeleteRunnerOutcome.Busy
                ? new RunnerChecked(null, null)
                : new RunnerChecked(JobOutcome.Abandoned, "runner stayed idle past the grace period (its job ran elsewhere or was cancelled); registration deleted");
        }
    }

    private void OnRunnerChecked(RunnerChecked m)
    {
        _checkingRunner = false;
        if (m.Outcome is { } outcome && _state.Phase == JobPhase.Running)
        {
            PersistAll([new JobEvents.JobFinished(outcome, m.Reason!, DateTimeOffset.UtcNow)]);
        }
        else if (m.Reason is not null)
        {
            _log.Warning("job {0}: runner check failed ({1}); will check again", _jobId, m.Reason);
        }
    }

    private void Release()
    {
        if (_releasing || _state.VmName is not { } vm)
        {
            return;
        }

        _releasing = true;
        _log.Info("job {0}: {1} ({2}); releasing VM {3}", _jobId, _state.Outcome, _state.Reason, vm);
        _deps.Pool.ReleaseAsync(vm, _state.VmUid, Vms.VmAnnotations.SessionFor(_jobId), CancellationToken.None)
            .PipeTo(Self, success: () => new ReleaseDone(vm, null), failure: e => new ReleaseDone(vm, e.Message));
    }

    private void OnReleaseDone(ReleaseDone m)
    {
        _releasing = false;
        if (m.Error is not null)
        {
            _log.Warning("job {0}: releasing VM {1} failed ({2}); retrying", _jobId, m.VmName, m.Error);
            Timers.StartSingleTimer(ReleaseRetryTimer, ReleaseRetry.Instance, TimeSpan.FromSeconds(2));
            return;
        }

        if (_state.Phase == JobPhase.Releasing && _state.VmName == m.VmName)
        {
            PersistAll([new JobEvents.VmReleased(m.VmName, DateTimeOffset.UtcNow)]);
        }
    }

    private void ReleaseQuietly(string vmName, string? vmUid)
    {
        var log = _log;
        var jobId = _jobId;
        _deps.Pool.ReleaseAsync(vmName, vmUid, Vms.VmAnnotations.SessionFor(_jobId), CancellationToken.None).ContinueWith(
            t => log.Warning("job {0}: releasing VM {1} failed ({2}); the janitor will retry", jobId, vmName, t.Exception?.GetBaseException().Message),
            TaskContinuationOptions.OnlyOnFaulted);
    }

    private void DeleteRunnerQuietly()
    {
        if (_state.RunnerId is { } runnerId && _state.Repo is { } repo)
        {
            var log = _log;
            _deps.GitHub.DeleteRunnerAsync(repo, runnerId, CancellationToken.None).ContinueWith(
                t => log.Warning("job {0}: deleting runner {1} failed ({2})", _jobId, runnerId, t.Exception?.GetBaseException().Message),
                TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    private void StopChild()
    {
        if (_child is not null)
        {
            Context.Stop(_child);
            _child = null;
        }
    }

    private void StopTimers()
    {
        Timers.Cancel(HardCapTimer);
        Timers.Cancel(RunnerCheckTimer);
        Timers.Cancel(SightingCheckTimer);
    }

    private sealed class HardCap : INoSerializationVerificationNeeded
    {
        public static readonly HardCap Instance = new();
    }

    private sealed class CheckRunner : INoSerializationVerificationNeeded
    {
        public static readonly CheckRunner Instance = new();
    }

    private sealed class CheckSighting : INoSerializationVerificationNeeded
    {
        public static readonly CheckSighting Instance = new();
    }

    private sealed class ReleaseRetry : INoSerializationVerificationNeeded
    {
        public static readonly ReleaseRetry Instance = new();
    }

    private sealed record RunnerChecked(JobOutcome? Outcome, string? Reason) : INoSerializationVerificationNeeded;

    private sealed record ReleaseDone(string VmName, string? Error) : INoSerializationVerificationNeeded;
}
