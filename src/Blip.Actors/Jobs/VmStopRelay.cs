using Akka.Actor;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>
/// The VM inventory's listener on each node: turns "the VM of job N stopped" into <see cref="JobCommands.VmStopped"/>
/// for that job's actor (through the shard region), so the VM feature needs to know nothing of the job protocol.
/// </summary>
public sealed class VmStopRelay : ReceiveActor
{
    public VmStopRelay(IActorRef jobs) =>
        Receive<VmInventoryProtocol.JobVmStopped>(m => jobs.Tell(ToCommand(m)));

    public static Props Props(IActorRef jobs) => Akka.Actor.Props.Create(() => new VmStopRelay(jobs));

    public static JobCommands.VmStopped ToCommand(VmInventoryProtocol.JobVmStopped m) =>
        new(new JobId(m.JobId), m.VmName, m.Deleted, m.RunnerProvisioned, m.VmUid);
}
