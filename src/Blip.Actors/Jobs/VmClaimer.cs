using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>
/// Child of a job actor: gets it a VM. First adopts a VM that already carries this job's session (a claim
/// made before a crash), else takes a candidate from the inventory and claims it with one conditional update;
/// 409 → the next candidate. No VM → <c>failed to allocate runner VM</c>, then waits for the inventory's
/// "VM available" or a backoff tick, whichever comes first. Tells its parent <see cref="Claimed"/> and stops.
/// </summary>
public sealed class VmClaimer : UntypedActor, IWithTimers
{
    private const string RetryTimer = "retry";

    private readonly long _jobId;
    private readonly RepoName _repo;
    private readonly DateTimeOffset _sightedAt;
    private readonly JobDependencies _deps;
    private readonly IReadOnlySet<string> _exclude;
    private readonly ImmutableArray<string> _labels;
    private readonly string _pool;
    private readonly DateTimeOffset _waitingSince;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Backoff _backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    private int _failures;
    private bool _tried;
    private DateTimeOffset _lastWarned = DateTimeOffset.MinValue;

    // Waiting wakes on every change to a claimable VM; the warning says so at most this often.
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(30);

    public VmClaimer(long jobId, JobState job, JobDependencies deps)
    {
        _sightedAt = job.SightedAt ?? DateTimeOffset.UtcNow;
        _exclude = new HashSet<string>(job.AbandonedVms.Concat(job.SpentVms));
        _jobId = jobId;
        _repo = job.Repo!;
        _labels = job.Labels;
        _pool = job.Pool ?? deps.Options.Pool;
        _waitingSince = job.QueuedAt ?? _sightedAt;
        _deps = deps;
    }

    // A switch, not ReceiveActor's registrations: one claimer lives per waiting job, and those cost it a delegate per message type.
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case VmInventoryProtocol.VmOfJob { Vm: { } vm } when !vm.ReleaseRequested && !vm.Terminating && !Excluded(vm):
                _log.Info("job {0}: adopting VM {1}, already claimed for it", _jobId, vm.Name);
                Context.Parent.Tell(new Claimed(vm.Name, ClaimTime(vm.Name, vm.Annotations.GetValueOrDefault(VmAnnotations.ClaimedAt)), vm.Uid));
                Context.Stop(Self);
                break;
            case VmInventoryProtocol.VmOfJob:
            case Retry:
                RequestVm();
                break;
            case VmInventoryProtocol.VmOffer offer when Excluded(offer.Vm):
                RequestVm();
                break;
            case VmInventoryProtocol.VmOffer offer:
                Claim(offer.Vm);
                break;
            case VmInventoryProtocol.NoVmAvailable:
                SayTried();
                _failures++;
                var now = DateTimeOffset.UtcNow;
                if (now - _lastWarned >= WarnEvery)
                {
                    _log.Warning("job {0} ({1}): failed to allocate runner VM: no claimable VM in pool {2} (attempt {3}); waiting for one",
                        _jobId, _repo, _pool, _failures);
                    _lastWarned = now;
                }

                Timers.StartSingleTimer(RetryTimer, Retry.Instance, _backoff.Next());
                break;
            case VmInventoryProtocol.VmAvailable:
                Timers.Cancel(RetryTimer);
                RequestVm();
                break;
            case ClaimResult { Outcome: ClaimOutcome.Claimed } m:
                _log.Info("job {0} ({1}): claimed VM {2}", _jobId, _repo, m.VmName);
                Context.Parent.Tell(new Claimed(m.VmName, m.ClaimedAt, m.VmUid));
                Context.Stop(Self);
                break;
            case ClaimResult m:
                SayTried();
                _log.Info("job {0}: VM {1} {2}; trying another", _jobId, m.VmName, m.Outcome == ClaimOutcome.Conflict ? "changed since it was offered (409 Conflict: another claim or writer won)" : "is gone");
                RequestVm();
                break;
            case Status.Failure f:
                _tried = true;
                var wait = _backoff.Next();
                _log.Warning("job {0}: failed to allocate runner VM in pool {1}: claim failed ({2}); retrying in {3}", _jobId, _pool, f.Cause.Message, wait);
                Context.System.EventStream.Publish(new WaitingForVm.ClaimFailed(_jobId, f.Cause.Message, DateTimeOffset.UtcNow));
                Timers.StartSingleTimer(RetryTimer, Retry.Instance, wait);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Once: the first attempt has an outcome, so the stuck-job watch may judge this wait (<see cref="WaitingForVm.Tried"/>).</summary>
    private void SayTried()
    {
        if (!_tried)
        {
            _tried = true;
            Context.System.EventStream.Publish(new WaitingForVm.Tried(_jobId));
        }
    }

    private void RequestVm() => _deps.Inventory.Tell(new VmInventoryProtocol.RequestVm(_jobId, _pool));

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="job">The job's state: its repo, labels and queue time, when it was sighted for this cycle (no VM was
    /// claimed for it before then), and the VMs it gave up (never claimed again).</param>
    public static Props Props(long jobId, JobState job, JobDependencies deps) =>
        Akka.Actor.Props.Create(() => new VmClaimer(jobId, job, deps)).WithMailbox(LeanMailbox.Id);

    protected override void PreStart()
    {
        Context.System.EventStream.Publish(new WaitingForVm.Started(_jobId, _repo, _labels, _waitingSince, _pool));
        _deps.Inventory.Tell(new VmInventoryProtocol.FindVmOfJob(_jobId));
    }

    protected override void PostStop() => Context.System.EventStream.Publish(new WaitingForVm.Stopped(_jobId));

    private void Claim(VmView vm)
    {
        var claimedAt = DateTimeOffset.UtcNow;
        var annotations = VmAnnotations.ForClaim(_jobId, _repo, _deps.Options.NodeName, claimedAt, _deps.Options.MaxDurationSeconds);
        var pool = _deps.Pool;
        var name = vm.Name;
        var uid = vm.Uid;
        pool.TryClaimAsync(vm, annotations, CancellationToken.None)
            .PipeTo(Self, success: outcome => new ClaimResult(name, uid, outcome, claimedAt));
    }

    /// <summary>Given up for this job before: by uid (a reused name is another VM), by name for those recorded without one.</summary>
    private bool Excluded(VmView vm) => _exclude.Contains(string.IsNullOrEmpty(vm.Uid) ? vm.Name : vm.Uid);

    private DateTimeOffset ClaimTime(string vmName, string? claimedAt) => AdoptedClaimTime(_log, _jobId, vmName, claimedAt, _sightedAt);

    /// <summary>The claim time of a VM adopted for a job (<see cref="VmAnnotations.ClaimTimeOf"/>), warning when its
    /// <c>blip.io/claimed-at</c> could not be used as it is.</summary>
    public static DateTimeOffset AdoptedClaimTime(ILoggingAdapter log, long jobId, string vmName, string? claimedAt, DateTimeOffset sightedAt)
    {
        var time = VmAnnotations.ClaimTimeOf(claimedAt, sightedAt, DateTimeOffset.UtcNow, out var problem);
        if (problem is not null)
        {
            log.Warning("job {0}: VM {1}: {2}; counting its hard cap from {3:O}", jobId, vmName, problem, time);
        }

        return time;
    }

    /// <summary>To the parent: the VM is ours.</summary>
    public sealed record Claimed(string VmName, DateTimeOffset ClaimedAt, string? VmUid = null) : INoSerializationVerificationNeeded;

    private sealed record ClaimResult(string VmName, string VmUid, ClaimOutcome Outcome, DateTimeOffset ClaimedAt) : INoSerializationVerificationNeeded;

    private sealed class Retry : INoSerializationVerificationNeeded
    {
        public static readonly Retry Instance = new();
    }
}
