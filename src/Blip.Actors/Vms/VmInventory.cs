using Akka.Actor;
using Akka.Event;
using Blip.Actors.Shared;

namespace Blip.Actors.Vms;

/// <summary>
/// The node's view of the pool, fed by one list+watch of VMs and VMIs (no LIST per job). Hands out claim
/// candidates (reserving each briefly so local claimers don't race for one VM; the API's 409 settles races
/// between nodes), wakes waiting claimers — first come first, one per claimable VM (<see cref="WaitQueues"/>) — and tells
/// its listener when a VM claimed for a job stopped or was deleted (<see cref="VmInventoryProtocol.JobVmStopped"/>) — a completion signal that costs no API call
/// (the job feature relays it to the job).
/// It caches the VMs of every pool (label <c>blip.io/pool</c>) and offers a job only VMs of the job's pool: the default
/// pool, or one a label of key <c>pools</c> routes to. Which pools are in use (the default one plus those of the current
/// <c>pools</c>) decides only what <see cref="VmInventoryProtocol.GetAll"/> lists, so a VM claimed for a job stays known
/// (release, stop signal, adoption by name) whatever the ConfigMap says meanwhile.
/// </summary>
public sealed class VmInventory : ReceiveActor, IWithUnboundedStash
{
    private static readonly TimeSpan ReservationTtl = TimeSpan.FromSeconds(15);

    private readonly IVmPool _pool;
    private readonly IActorRef _listener;
    private readonly string _poolName;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, VmPoolChange.VmUpserted> _vms = [];
    private readonly Dictionary<string, VmPoolChange.VmiUpserted> _vmis = [];
    private readonly Dictionary<string, DateTimeOffset> _reserved = [];
    private readonly HashSet<string> _reportedStopped = [];
    // Who waits for a VM: one queue per pool, first come first woken (a VM of one pool wakes no one waiting on another).
    private readonly WaitQueues _waiting = new();
    private readonly CancellationTokenSource _stop = new();
    private HashSet<string> _poolsInUse;
    private bool _synced;

    public VmInventory(IVmPool pool, IActorRef listener, string poolName)
    {
        _pool = pool;
        _listener = listener;
        _poolName = poolName;
        _poolsInUse = [poolName];

        Receive<VmPoolChange.VmUpserted>(m =>
        {
            if (string.IsNullOrEmpty(m.Labels.GetValueOrDefault(VmAnnotations.PoolLabel)))
            {
                _vms.Remove(m.Name);
                return;
            }

            // A claim made from the version offered can only conflict once the VM changed (claimed, or touched by
            // anyone): the reservation has done its job and the VM, if still claimable, may be offered afresh.
            if (_vms.Remove(m.Name, out var before) && before.ResourceVersion != m.ResourceVersion)
            {
                _reserved.Remove(m.Name);
            }

            // The name is another VM's now (pool names are reused) and the old one's DELETED was missed: it is gone.
            if (before is not null && before.Uid != m.Uid && before.Uid.Length > 0)
            {
                ReportStopped(m.Name, before, deleted: true);
                _reportedStopped.Remove(m.Name);
                _vmis.Remove(m.Name);
            }

            _vms[m.Name] = m;

            Changed(m.Name);
        });
        Receive<VmPoolChange.VmDeleted>(m =>
        {
            if (_vms.Remove(m.Name, out var last))
            {
                ReportStopped(m.Name, last, deleted: true);
            }

            _reserved.Remove(m.Name);
            _reportedStopped.Remove(m.Name);
        });
        Receive<VmPoolChange.VmiUpserted>(m =>
        {
            _vmis[m.Name] = m;
            Changed(m.Name);
        });
        Receive<VmPoolChange.VmiDeleted>(m =>
        {
            _vmis.Remove(m.Name);
            Changed(m.Name);
        });
        Receive<VmPoolChange.Resynced>(m =>
        {
            // A kind's own relist is the only list that can say one of its objects is gone.
            if (m.Kind == VmPoolKind.Vms)
            {
                foreach (var gone in _vms.Keys.Where(n => !m.Names.Contains(n)).ToList())
                {
                    Self.Tell(new VmPoolChange.VmDeleted(gone));
                }
            }
            else
            {
                foreach (var gone in _vmis.Keys.Where(n => !m.Names.Contains(n)).ToList())
                {
                    _vmis.Remove(gone);
                    Changed(gone);
                }
            }

            if (m.Complete && !_synced)
            {
                _synced = true;
                Stash.UnstashAll();
            }
        });
        Receive<Config.ConfigProtocol.SettingsChanged>(m =>
        {
            // No usable configuration means no job is routed anywhere new: the pools in use stay as they were.
            if (m.Config is { } config)
            {
                _poolsInUse = [_poolName, .. config.Pools.Pools];
            }
        });
        // Until the first complete list, "no such VM" would be a lie: questions wait.
        Receive<IVmInventoryQuery>(_ => !_synced, _ => Stash.Stash());
        Receive<VmInventoryProtocol.RequestVm>(m =>
        {
            var now = DateTimeOffset.UtcNow;
            var pool = m.Pool ?? _poolName;
            var candidate = Free(pool, now).OrderBy(v => v.Name, StringComparer.Ordinal).FirstOrDefault();
            if (candidate is null)
            {
                if (_waiting.Enqueue(Sender, pool))
                {
                    Context.Watch(Sender);
                }

                Sender.Tell(VmInventoryProtocol.NoVmAvailable.Instance);
                return;
            }

            if (_waiting.Remove(Sender) is not null)
            {
                Context.Unwatch(Sender);
            }

            _reserved[candidate.Name] = now + ReservationTtl;
            Sender.Tell(new VmInventoryProtocol.VmOffer(candidate));
        });
        Receive<Terminated>(m =>
        {
            // A waiter woken for a VM that stopped before asking for it leaves that VM to the next in line.
            if (_waiting.Remove(m.ActorRef) is { Woken: true } gone)
            {
                Wake(gone.Pool);
            }
        });
        Receive<VmInventoryProtocol.FindVmOfJob>(m =>
            Sender.Tell(new VmInventoryProtocol.VmOfJob(Views().FirstOrDefault(v => v.ClaimedByJob == m.JobId))));
        Receive<VmInventoryProtocol.GetVm>(m => Sender.Tell(new VmInventoryProtocol.VmOfJob(View(m.VmName))));
        Receive<VmInventoryProtocol.GetAll>(_ => Sender.Tell(new VmInventoryProtocol.AllVms(
            Views().Where(v => _poolsInUse.Contains(v.Pool) || v.ClaimedByJob is not null).ToList(), _synced)));
        Receive<WatchPump.Ended>(_ =>
        {
            if (!_stop.IsCancellationRequested)
            {
                _log.Warning("pool {0}: VM watch ended; restarting it", _poolName);
                StartWatching();
            }
        });
        ReceiveAny(Unhandled);
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(IVmPool pool, IActorRef listener, string poolName) =>
        Akka.Actor.Props.Create(() => new VmInventory(pool, listener, poolName));

    protected override void PreStart() => StartWatching();

    protected override void PostStop() => _stop.Cancel();

    private void StartWatching() => WatchPump.Start(_pool.WatchAsync, Self, _stop.Token);

    /// <summary>The pool's VMs that may be offered now: claimable and not reserved for another claimer.</summary>
    private IEnumerable<VmView> Free(string pool, DateTimeOffset now) =>
        Views().Where(v => v.Pool == pool && v.IsClaimable && !IsReserved(v.Name, now));

    private bool IsReserved(string name, DateTimeOffset now) =>
        _reserved.TryGetValue(name, out var until) && until > now;

    private void Changed(string name)
    {
        if (View(name) is not { } view)
        {
            return;
        }

        if (view.Stopped)
        {
            ReportStopped(name, _vms[name], deleted: false);
        }

        if (view.IsClaimable && !IsReserved(name, DateTimeOffset.UtcNow))
        {
            Wake(view.Pool);
        }
    }

    /// <summary>Wakes as many of the pool's waiters, first come first, as it has claimable VMs no one was offered or woken
    /// for yet — not every waiter for every VM: with hundreds of jobs waiting, each VM that became ready would have cost
    /// hundreds of requests, all but one answered "no VM".</summary>
    private void Wake(string pool)
    {
        if (!_waiting.AnyQueued(pool))
        {
            return;
        }

        foreach (var waiter in _waiting.WakeNext(pool, Free(pool, DateTimeOffset.UtcNow).Count()))
        {
            waiter.Tell(VmInventoryProtocol.VmAvailable.Instance);
        }
    }

    private void ReportStopped(string name, VmPoolChange.VmUpserted vm, bool deleted)
    {
        var jobId = VmAnnotations.JobIdOfSession(vm.Annotations.GetValueOrDefault(VmAnnotations.SessionId));
        if (jobId is null || (!deleted && !_reportedStopped.Add(name)))
        {
            return;
        }

        var provisioned = vm.Annotations.GetValueOrDefault(VmAnnotations.RunnerProvisioned) == "true";
        _listener.Tell(new VmInventoryProtocol.JobVmStopped(jobId.Value, name, deleted, provisioned, vm.Uid.Length > 0 ? vm.Uid : null));
    }

    private IEnumerable<VmView> Views() => _vms.Keys.Select(View).OfType<VmView>();

    private VmView? View(string name)
    {
        if (!_vms.TryGetValue(name, out var vm))
        {
            return null;
        }

        // An instance of the name is this VM's only if this VM controls it: the VMI watch may still hold the stopped
        // instance of a deleted VM whose name a new VM has already taken (the two kinds' watches are not ordered).
        if (_vmis.TryGetValue(name, out var vmi) && vmi.OwnerUid.Length > 0 && vm.Uid.Length > 0 && vmi.OwnerUid != vm.Uid)
        {
            vmi = null;
        }

        return new VmView(vm.Name, vm.ResourceVersion, vm.Annotations, InPool: true, vmi?.Ready == true, vmi?.Address, vmi?.Phase, vm.Source, vm.Uid, vm.Terminating,
            vm.Labels.GetValueOrDefault(VmAnnotations.PoolLabel) ?? _poolName);
    }
}

/// <summary>A question to the inventory; answered only once the cache is whole.</summary>
public interface IVmInventoryQuery;

public static class VmInventoryProtocol
{
    /// <summary>Offer me a claimable VM (reserved for me briefly). Replies <see cref="VmOffer"/> or <see cref="NoVmAvailable"/>;
    /// after the latter the sender gets <see cref="VmAvailable"/> once one appears.</summary>
    /// <param name="Pool">The job's pool (routed by key <c>pools</c>); null: the default pool. Only its VMs are offered.</param>
    public sealed record RequestVm(long JobId, string? Pool = null) : IVmInventoryQuery;

    public sealed record VmOffer(VmView Vm);

    public sealed class NoVmAvailable
    {
        public static readonly NoVmAvailable Instance = new();
    }

    public sealed class VmAvailable
    {
        public static readonly VmAvailable Instance = new();
    }

    public sealed record FindVmOfJob(long JobId) : IVmInventoryQuery;

    public sealed record GetVm(string VmName) : IVmInventoryQuery;

    public sealed record VmOfJob(VmView? Vm);

    public sealed class GetAll : IVmInventoryQuery
    {
        public static readonly GetAll Instance = new();
    }

    public sealed record AllVms(IReadOnlyList<VmView> Vms, bool Synced);

    /// <summary>To the listener: the VM claimed for job <paramref name="JobId"/> powered off, or was deleted.</summary>
    /// <param name="RunnerProvisioned">The VM carries <c>blip.io/runner-provisioned=true</c>: a runner started on it.</param>
    public sealed record JobVmStopped(long JobId, string VmName, bool Deleted, bool RunnerProvisioned, string? VmUid);
}
