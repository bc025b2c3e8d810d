using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Janitor;

/// <summary>
/// Reconciles claimed VMs with job actors: every VM carrying <c>actions-&lt;jobId&gt;</c> wakes its job actor
/// (<see cref="JobCommands.Reconcile"/>), which resumes its lifecycle after a restart, adopts a claim it never
/// recorded, or releases a VM it does not use. A cluster singleton: it sweeps when it starts (once the VM watch has
/// synced), periodically, and when a node is removed from the cluster — the job actors that node hosted then
/// recover from the shared journal on another node right away, since the sweep's message re-homes their shards.
/// Jobs still queued with no VM yet come back through the poller's next sighting.
/// </summary>
public sealed class Janitor : ReceiveActor, IWithTimers
{
    private const string SweepTimer = "sweep";
    private const string RetryTimer = "retry";
    private const string AfterRemovalTimer = "after-removal";

    // A second sweep after a removal: the first may race the shard coordinator's own view of the departure.
    private static readonly TimeSpan AfterRemovalResweep = TimeSpan.FromSeconds(3);

    private readonly TimeSpan _interval;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public Janitor(IActorRef inventory, IActorRef jobs, TimeSpan interval)
    {
        _interval = interval;
        Receive<Sweep>(_ => inventory.Tell(VmInventoryProtocol.GetAll.Instance));
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            _log.Info("janitor: node {0} left the cluster ({1}); waking the jobs of every claimed VM", m.Member.Address, m.PreviousStatus);
            Self.Tell(Sweep.Instance);
            Timers.StartSingleTimer(AfterRemovalTimer, Sweep.Instance, AfterRemovalResweep);
        });
        Receive<VmInventoryProtocol.AllVms>(m =>
        {
            if (!m.Synced)
            {
                Timers.StartSingleTimer(RetryTimer, Sweep.Instance, TimeSpan.FromSeconds(1));
                return;
            }

            foreach (var vm in m.Vms)
            {
                if (vm.ClaimedByJob is { } jobId)
                {
                    jobs.Tell(new JobCommands.Reconcile(new JobId(jobId), vm.Name, vm.Annotations.GetValueOrDefault(VmAnnotations.ClaimedAt), vm.Uid, vm.ReleaseRequested));
                }
            }
        });
        ReceiveAny(Unhandled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef inventory, IActorRef jobs, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new Janitor(inventory, jobs, interval));

    protected override void PreStart()
    {
        Self.Tell(Sweep.Instance);
        Timers.StartPeriodicTimer(SweepTimer, Sweep.Instance, _interval);
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private sealed class Sweep : INoSerializationVerificationNeeded
    {
        public static readonly Sweep Instance = new();
    }
}
