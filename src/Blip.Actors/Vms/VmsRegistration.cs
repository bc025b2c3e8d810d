using Akka.Actor;
using Akka.Hosting;

namespace Blip.Actors.Vms;

/// <summary>Registry key of the node's <see cref="VmInventory"/>.</summary>
public sealed class VmInventoryKey;

/// <summary>Registers the node's <see cref="VmInventory"/> (actor <c>/user/vms</c>).</summary>
public static class VmsRegistration
{
    /// <param name="listener">Who hears of stopped VMs (<see cref="VmInventoryProtocol.JobVmStopped"/>), looked up in the
    /// registry when the inventory starts.</param>
    public static AkkaConfigurationBuilder AddVmInventory(this AkkaConfigurationBuilder builder, IVmPool pool, string poolName, Func<IActorRegistry, IActorRef> listener) =>
        builder.WithActors((system, registry) => registry.Register<VmInventoryKey>(system.ActorOf(VmInventory.Props(pool, listener(registry), poolName), "vms")));
}
