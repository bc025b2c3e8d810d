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
    /// <param name="config">The node's config watcher, when the inventory should follow the pools in use (key <c>pools</c>).</param>
    public static AkkaConfigurationBuilder AddVmInventory(this AkkaConfigurationBuilder builder, IVmPool pool, string poolName, Func<IActorRegistry, IActorRef> listener, Func<IActorRegistry, IActorRef>? config = null) =>
        builder.WithActors((system, registry) =>
        {
            var inventory = system.ActorOf(VmInventory.Props(pool, listener(registry), poolName), "vms");
            registry.Register<VmInventoryKey>(inventory);
            config?.Invoke(registry).Tell(new Config.ConfigProtocol.Subscribe(inventory));
        });
}
