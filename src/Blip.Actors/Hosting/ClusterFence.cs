using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Blip.Actors.Vms;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Hosting;

/// <summary>
/// Says whether this node may claim a VM now. Cluster Sharding keeps one job actor per job only among nodes that
/// agree on the membership; a node cut off from the majority (a partition, or a process frozen by SIGSTOP, a VM
/// pause, a stop-the-world stall) still runs its job actors until it learns it was downed, and they would claim
/// with stale state while the majority has already re-created them. So a claim is refused when:
/// <list type="bullet">
/// <item>this node is not Up (joining, leaving, downed);</item>
/// <item>it reaches no more than half of the members it knows (keep-majority would down its side);</item>
/// <item>the process was frozen for at least the split-brain resolver's stable-after: the majority may have
/// downed it meanwhile, and right after a freeze the node's own view is stale (its failure detector has not run
/// yet). Claims wait until the node has had time to see the truth: it is downed and exits, or it is still a
/// healthy member.</item>
/// </list>
/// A pause shorter than stable-after cannot have cost the node its membership: the majority downs it only after
/// failure detection (a few seconds) plus stable-after of unreachability, and re-homes its shards only after a further
/// removal margin of the same length (about 17 s in all with the 7 s default). A shorter threshold would also trip on
/// the multi-second stalls of a starved machine.
/// </summary>
public sealed class ClusterFence : IDisposable
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(250);

    private readonly Func<ActorSystem> _system;
    private readonly ILogger<ClusterFence> _log;
    private readonly TimeSpan _pauseThreshold;
    private readonly TimeSpan _holdAfterPause;
    private readonly Timer _ticker;
    private long _lastTick = Stopwatch.GetTimestamp();
    private long _holdUntil;

    public ClusterFence(Func<ActorSystem> system, BlipOptions options, ILogger<ClusterFence> log)
    {
        _system = system;
        _log = log;
        _pauseThreshold = options.DowningStableAfter;
        // Failure detection (a few seconds) plus the node's own stable-after, twice over: by then it has downed itself
        // (and is exiting) or it has heard from a majority that still counts it in.
        _holdAfterPause = options.DowningStableAfter * 2 + TimeSpan.FromSeconds(5);
        _ticker = new Timer(_ => CheckForPause(), null, TickInterval, TickInterval);
    }

    /// <summary>Null when claims may go ahead; else why not, in words for the log.</summary>
    public string? WhyNotClaim()
    {
        CheckForPause();
        var holdUntil = Interlocked.Read(ref _holdUntil);
        var now = Stopwatch.GetTimestamp();
        if (now < holdUntil)
        {
            return $"this process was frozen long enough to have been downed; no claims for {Stopwatch.GetElapsedTime(now, holdUntil).TotalSeconds:F0} s more";
        }

        var cluster = Cluster.Get(_system());
        var self = cluster.SelfMember;
        if (self.Status != MemberStatus.Up)
        {
            return $"this node is {self.Status} in the cluster, not Up";
        }

        var state = cluster.State;
        var members = state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving).ToList();
        var reachable = members.Count(m => !state.Unreachable.Contains(m));
        return reachable * 2 > members.Count
            ? null
            : $"this node reaches only {reachable} of {members.Count} cluster members (a minority claims nothing)";
    }

    public void Dispose() => _ticker.Dispose();

    private void CheckForPause()
    {
        var now = Stopwatch.GetTimestamp();
        var last = Interlocked.Exchange(ref _lastTick, now);
        var gap = Stopwatch.GetElapsedTime(last, now);
        if (gap < _pauseThreshold)
        {
            return;
        }

        var until = now + (long)(_holdAfterPause.TotalSeconds * Stopwatch.Frequency);
        if (until > Interlocked.Read(ref _holdUntil))
        {
            Interlocked.Exchange(ref _holdUntil, until);
            _log.LogWarning("cluster fence: this process was frozen for {Gap:F1} s; holding VM claims for {Hold:F0} s until the cluster view is current",
                gap.TotalSeconds, _holdAfterPause.TotalSeconds);
        }
    }
}

/// <summary>The VM pool, with claims refused while <see cref="ClusterFence"/> says this node may not claim. The job's
/// VM claimer treats the refusal like any failed claim: it logs it and retries with backoff.</summary>
public sealed class FencedVmPool(IVmPool inner, ClusterFence fence) : IVmPool
{
    public Task<ClaimOutcome> TryClaimAsync(VmView vm, IReadOnlyDictionary<string, string> annotations, CancellationToken ct) =>
        fence.WhyNotClaim() is { } reason
            ? Task.FromException<ClaimOutcome>(new InvalidOperationException($"not claiming: {reason}"))
            : inner.TryClaimAsync(vm, annotations, ct);

    public Task<bool> AnnotateAsync(string vmName, string? vmUid, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct) =>
        inner.AnnotateAsync(vmName, vmUid, annotations, ct);

    public Task ReleaseAsync(string vmName, string? vmUid, string sessionId, CancellationToken ct) => inner.ReleaseAsync(vmName, vmUid, sessionId, ct);

    public Task RecordEventAsync(string vmName, string? vmUid, VmEvent vmEvent, CancellationToken ct) => inner.RecordEventAsync(vmName, vmUid, vmEvent, ct);

    public Task RecordPoolEventAsync(VmEvent poolEvent, CancellationToken ct) => inner.RecordPoolEventAsync(poolEvent, ct);

    public Task RecordPoolEventAsync(string pool, VmEvent poolEvent, CancellationToken ct) => inner.RecordPoolEventAsync(pool, poolEvent, ct);

    public IAsyncEnumerable<VmPoolChange> WatchAsync(CancellationToken ct) => inner.WatchAsync(ct);
}
