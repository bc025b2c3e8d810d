using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;

namespace Blip.Actors.Shared;

/// <summary>Where the cluster's singletons run and how soon one moves after its node is removed.</summary>
/// <param name="Role">The cluster role whose oldest member hosts them.</param>
/// <param name="HandOverMargin">How long after a downed node's removal its singletons start on the next node.</param>
public sealed record SingletonPlacement(string Role, TimeSpan HandOverMargin);

/// <summary>
/// A cluster singleton as Akka.Hosting's <c>WithSingleton</c> makes one (manager <c>/user/NAME</c>, singleton
/// <c>/user/NAME/NAME</c>, proxy <c>/user/NAME-proxy</c> in the registry), with the one setting it does not take: the
/// removal margin. Its default, the downing provider's margin (the split-brain resolver's stable-after), keeps a removed
/// node's singleton from overlapping the new one; ours tolerate an overlap, so they hand over after
/// <see cref="SingletonPlacement.HandOverMargin"/>.
/// </summary>
public static class Singletons
{
    public static AkkaConfigurationBuilder WithSingletonOf<TKey>(
        this AkkaConfigurationBuilder builder, string name, Func<IActorRegistry, Props> props, SingletonPlacement placement, bool createProxy) =>
        builder.WithActors((system, registry) =>
        {
            var settings = ClusterSingletonManagerSettings.Create(system)
                .WithSingletonName(name)
                .WithRole(placement.Role)
                .WithRemovalMargin(placement.HandOverMargin);
            system.ActorOf(ClusterSingletonManager.Props(props(registry), PoisonPill.Instance, settings), name);
            if (createProxy)
            {
                var proxy = ClusterSingletonProxySettings.Create(system).WithSingletonName(name).WithRole(placement.Role);
                registry.Register<TKey>(system.ActorOf(ClusterSingletonProxy.Props($"/user/{name}", proxy), $"{name}-proxy"));
            }
        });
}
