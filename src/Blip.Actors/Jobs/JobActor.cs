using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>
/// The single authority for one GitHub job (sharded by job id, persistent). Every input — commands, child reports,
/// timers, finished async work — goes to <see cref="JobState.Decide"/> (the lifecycle diagram is there); the actor
/// stops or forgets a child at once, persists the decision's events, applies them, performs the other effects, then drives the phase it is in: one
/// behaviour per phase (what <c>OnCommand</c> hears in it), one child per phase (a VM claimer, then a runner bootstrapper), the phase's
/// timers. Driven from the persisted state (level-triggered), so a restart at any point resumes where the journal
/// says; the VM's <c>blip.io/session-id</c> settles "which VM is mine". Done is a tombstone until the retention has
/// passed (<see cref="JobRetention"/>; JobActor.Retention.cs deletes the events).
/// </summary>
public sealed partial class JobActor : UntypedPersistentActor, IWithTimers
{
    private const string HardCapTimer = "hard-cap";
    private const string RunnerCheckTimer = "runner-check";
    private const string SightingCheckTimer = "sighting-check";
    private const string ReleaseRetryTimer = "release-retry";
    private static readonly TimeSpan TombstoneIdle = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SightingCheckInterval = TimeSpan.FromSeconds(5);

    private readonly JobDependencies _deps;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly long _jobId;
    private JobState _state = JobState.Empty;
    private JobMemory _memory;
    private IActorRef? _child;

    // The phase whose behaviour the actor has (set by Drive): what it listens to beyond what every phase hears.
    private JobPhase _behaviour = JobPhase.New;

    public JobActor(string entityId, JobDependencies deps)
    {
        _deps = deps;
        _jobId = long.Parse(entityId, System.Globalization.CultureInfo.InvariantCulture);
        _memory = JobMemory.Start(LimitsOf(deps), DateTimeOffset.UtcNow);
        PersistenceId = JobPersistenceIds.Of(entityId);
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, JobDependencies deps) =>
        Akka.Actor.Props.Create(() => new JobActor(entityId, deps)).WithMailbox(LeanMailbox.Id);

    private static JobLimits LimitsOf(JobDependencies deps) => new(
        deps.Options.MaxVmsGivenUpPerJob, deps.Options.QueuedSightingTimeout, deps.Options.IdleRunnerGrace, deps.Options.MaxDurationSeconds)
    {
        JobRetention = deps.Options.JobRetention,
    };

    // Handlers are a switch, not ReceivePersistentActor's Command<T> registrations: those cost every live job actor a
    // delegate per message type and a handler set per Become (about 3 KiB each, measured with dotnet-gcdump).
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case IJobEvent e:
                _state = _state.Apply(e);
                break;
            case RecoveryCompleted:
                Decide(message);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>The behaviour of a phase: what every phase hears, and the timers and async results of this one.</summary>
    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case JobCommands.Sighted or JobCommands.LeftQueue or JobCommands.VmStopped or JobCommands.Reconcile
                or JobCommands.RunnerJobStarted or JobCommands.RunnerJobCompleted or JobQueries.GetStatus or JobCommands.Forget
                or JobInputs.RunnerChecked: // in every phase: it ends the check in flight
                Decide(message);
                return;
            case VmClaimer.Claimed or RunnerBootstrapper.Registered or RunnerBootstrapper.Started or RunnerBootstrapper.JitFailed
                or RunnerBootstrapper.GaveUpOnVm:
                FromChild(message);
                return;
        }

        switch (_behaviour, message)
        {
            case (JobPhase.New or JobPhase.Done, ReceiveTimeout):
            case (JobPhase.Claiming, JobInputs.CheckSighting):
            case (JobPhase.Provisioning or JobPhase.Running, JobInputs.HardCap):
            case (JobPhase.Running, JobInputs.CheckRunner):
            case (JobPhase.Releasing, JobInputs.StartRelease or JobInputs.ReleaseDone):
                Decide(message);
                return;
            case (JobPhase.New or JobPhase.Done, DeleteMessagesSuccess deleted):
                EventsDeleted(deleted);
                return;
            case (JobPhase.New or JobPhase.Done, DeleteMessagesFailure failed):
                EventsNotDeleted(failed);
                return;
        }

        // A timer or an async result of a phase left behind: nothing to decide.
        _log.Debug("job {0}: {1} arrived in {2}; ignored", _jobId, message.GetType().Name, _state.Phase);
    }

    private void FromChild(object report) => Decide(new JobInputs.ChildReport(report, _child is not null && Sender.Equals(_child)));

    private void Decide(object input)
    {
        var decision = _state.Decide(input, _memory, DateTimeOffset.UtcNow);
        _memory = decision.Memory;

        // A child told to stop stops now, not after the write: a bootstrapper left running would register a runner
        // (or start one) for a VM the job is giving up.
        var (now, later) = (decision.Effects.Where(IsAboutTheChild).ToList(), decision.Effects.Where(e => !IsAboutTheChild(e)).ToList());
        Perform(now);
        if (decision.Events.Count == 0)
        {
            Perform(later);
            if (input is RecoveryCompleted)
            {
                Drive();
            }

            return;
        }

        var before = _state.Phase;
        var remaining = decision.Events.Count;
        PersistAll(decision.Events.Select(JobRetention.Tagged), persisted =>
        {
            var e = JobRetention.Untagged(persisted);
            var previous = _state;
            _state = _state.Apply(e);
            if (JobState.VmEventFor(previous, _state, e) is { } vmEvent)
            {
                _ = _deps.Pool.RecordEventAsync(vmEvent.Vm, vmEvent.VmUid, vmEvent.Event, CancellationToken.None);
            }

            Context.System.EventStream.Publish(new JobEventPublished(_jobId, e, _state));
            if (--remaining > 0)
            {
                return;
            }

            Perform(later);
            if (_state.Phase != before)
            {
                StopChild(); // each phase has its own child; the old one's late reports must not count
            }

            Drive();
        });
    }

    private static bool IsAboutTheChild(JobEffect e) => e is JobEffect.StopChild or JobEffect.ForgetChild;

    private void Perform(IReadOnlyList<JobEffect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case JobEffect.Log log:
                    Write(log);
                    break;
                case JobEffect.ReleaseVm release:
                    ReleaseQuietly(release.VmName, release.VmUid);
                    break;
                case JobEffect.ReleaseOwnVm release:
                    var vm = release.VmName;
                    _deps.Pool.ReleaseAsync(vm, release.VmUid, VmAnnotations.SessionFor(_jobId), CancellationToken.None)
                        .PipeTo(Self, success: () => new JobInputs.ReleaseDone(vm, null), failure: e => new JobInputs.ReleaseDone(vm, e.Message));
                    break;
                case JobEffect.RetryReleaseAfter retry:
                    Timers.StartSingleTimer(ReleaseRetryTimer, JobInputs.StartRelease.Instance, retry.Delay);
                    break;
                case JobEffect.DeleteRunner delete:
                    DeleteRunnerQuietly(delete.RunnerId);
                    break;
                case JobEffect.DeleteUnusedRegistrations:
                    JobRegistrations.DeleteUnusedOfJobQuietly(_deps.GitHub, _state.Repo!, _jobId, _log);
                    break;
                case JobEffect.CheckRunner check:
                    var checkedId = check.RunnerId;
                    CheckRunnerAsync(check).PipeTo(Self, failure: e => new JobInputs.RunnerChecked(checkedId, null, e.Message));
                    break;
                case JobEffect.StopChild:
                    StopChild();
                    break;
                case JobEffect.ForgetChild:
                    _child = null;
                    break;
                case JobEffect.Reply reply:
                    Sender.Tell(reply.Message);
                    break;
                case JobEffect.Passivate:
                    Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                    break;
                case JobEffect.DeleteEvents:
                    DeleteEvents();
                    break;
            }
        }
    }

    private void Write(JobEffect.Log line)
    {
        switch (line.Level)
        {
            case LogLevel.ErrorLevel:
                _log.Error("{0}", line.Message);
                break;
            case LogLevel.WarningLevel:
                _log.Warning("{0}", line.Message);
                break;
            case LogLevel.InfoLevel:
                _log.Info("{0}", line.Message);
                break;
            default:
                _log.Debug("{0}", line.Message);
                break;
        }
    }

    /// <summary>Makes the world match the state: the one place where a phase starts its behaviour, child and timers.</summary>
    private void Drive()
    {
        _behaviour = _state.Phase;
        SetReceiveTimeout(_state.Phase is JobPhase.Done or JobPhase.New ? TombstoneIdle : null);
        if (_state.ClaimedAt is not null && _state.Phase is JobPhase.Provisioning or JobPhase.Running)
        {
            var due = _state.HardCapAt(_memory.Limits.MaxDurationSeconds)!.Value - DateTimeOffset.UtcNow;
            Timers.StartSingleTimer(HardCapTimer, JobInputs.HardCap.Instance, due > TimeSpan.Zero ? due : TimeSpan.Zero);
        }
        else
        {
            Timers.Cancel(HardCapTimer);
        }

        switch (_state.Phase)
        {
            case JobPhase.Claiming:
                Timers.StartPeriodicTimer(SightingCheckTimer, JobInputs.CheckSighting.Instance, SightingCheckInterval);
                _child ??= Context.ActorOf(
                    VmClaimer.Props(_jobId, _state, _deps),
                    $"claim-{_state.VmsAbandoned}-{Guid.NewGuid().ToString("N")[..6]}");
                break;
            case JobPhase.Provisioning:
                Timers.Cancel(SightingCheckTimer);
                _child ??= Context.ActorOf(
                    RunnerBootstrapper.Props(_deps.Runners, _jobId, _state.Repo!, _state.Labels, _state.VmName!, _state.VmUid, _state.RunnerId, sweepStale: _memory.Recovered || _state.VmsAbandoned > 0),
                    $"bootstrap-{_state.VmsAbandoned}-{Guid.NewGuid().ToString("N")[..6]}");
                break;
            case JobPhase.Running:
                Timers.Cancel(SightingCheckTimer);
                if (!Timers.IsTimerActive(RunnerCheckTimer))
                {
                    Timers.StartPeriodicTimer(RunnerCheckTimer, JobInputs.CheckRunner.Instance, _deps.Options.RunnerCheckInterval);
                }

                break;
            case JobPhase.Releasing:
                StopTimers();
                StopChild();
                Decide(JobInputs.StartRelease.Instance);
                break;
            case JobPhase.Done:
                StopTimers();
                StopChild();
                break;
        }
    }

    private async Task<JobInputs.RunnerChecked> CheckRunnerAsync(JobEffect.CheckRunner check)
    {
        var repo = _state.Repo!;
        var gitHub = _deps.GitHub;
        var runner = await gitHub.GetRunnerAsync(repo, check.RunnerId, CancellationToken.None).ConfigureAwait(false);
        if (runner is null)
        {
            return new JobInputs.RunnerChecked(check.RunnerId, JobOutcome.Completed, "runner deregistered");
        }

        if (runner.Busy || !check.DeleteIfIdle)
        {
            return new JobInputs.RunnerChecked(check.RunnerId, null, null);
        }

        var deleted = await gitHub.DeleteRunnerAsync(repo, check.RunnerId, CancellationToken.None).ConfigureAwait(false);
        return deleted == DeleteRunnerOutcome.Busy
            ? new JobInputs.RunnerChecked(check.RunnerId, null, null)
            : new JobInputs.RunnerChecked(check.RunnerId, JobOutcome.Abandoned, "runner stayed idle past the grace period (its job ran elsewhere or was cancelled); registration deleted");
    }

    private void ReleaseQuietly(string vmName, string? vmUid)
    {
        var log = _log;
        var jobId = _jobId;
        _deps.Pool.ReleaseAsync(vmName, vmUid, VmAnnotations.SessionFor(_jobId), CancellationToken.None).ContinueWith(
            t => log.Warning("job {0}: releasing VM {1} failed ({2}); the janitor will retry", jobId, vmName, t.Exception?.GetBaseException().Message),
            TaskContinuationOptions.OnlyOnFaulted);
    }

    private void DeleteRunnerQuietly(long runnerId)
    {
        if (_state.Repo is { } repo)
        {
            var log = _log;
            var jobId = _jobId;
            _deps.GitHub.DeleteRunnerAsync(repo, runnerId, CancellationToken.None).ContinueWith(
                t => log.Warning("job {0}: deleting runner {1} failed ({2})", jobId, runnerId, t.Exception?.GetBaseException().Message),
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
}
