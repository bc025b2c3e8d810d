using Akka.Actor;
using Blip.Actors.Jobs;
using Blip.Actors.Vms;

namespace Blip.Actors.Janitor;

/// <summary>
/// Reconciles claimed VMs with job actors: every VM carrying <c>actions-&lt;jobId&gt;</c> wakes its job actor
/// (<see cref="JobCommands.Reconcile"/>), which resumes its lifecycle after a restart, adopts a claim it never
/// recorded, or releases a VM it does not use. Runs at start (once the VM watch has synced) and periodically.
/// </summary>
public sealed class Janitor : ReceiveActor, IWithTimers
{
    private const string SweepTimer = "sweep";

    public Janitor(IActorRef inventory, IActorRef jobs, TimeSpan interval)
    {
        Receive<Sweep>(_ => inventory.Tell(VmInventoryProtocol.GetAll.Instance));
        Receive<VmInventoryProtocol.AllVms>(m =>
        {
            if (!m.Synced)
            {
                Timers.StartSingleTimer("retry", Sweep.Instance, TimeSpan.FromSeconds(1));
                return;
            }

            foreach (var vm in m.Vms)
            {
                if (vm.ClaimedByJob is { } jobId)
                {
                    jobs.Tell(new JobCommands.Reconcile(new JobId(jobId), vm.Name));
                }
            }
        });
        ReceiveAny(Unhandled);
        _interval = interval;
    }

    private readonly TimeSpan _interval;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef inventory, IActorRef jobs, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new Janitor(inventory, jobs, interval));

    protected override void PreStart()
    {
        Self.Tell(Sweep.Instance);
        Timers.StartPeriodicTimer(SweepTimer, Sweep.Instance, _interval);
    }

    private sealed class Sweep : INoSerializationVerificationNeeded
    {
        public static readonly Sweep Instance = new();
    }
}
