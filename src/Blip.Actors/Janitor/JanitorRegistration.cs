using Akka.Hosting;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Janitor;

/// <summary>Registry key of the <see cref="Janitor"/> singleton.</summary>
public sealed class JanitorKey;

/// <summary>Registry key of the <see cref="OrphanRunnerSweeper"/> singleton.</summary>
public sealed class OrphanRunnerSweeperKey;

/// <summary>Registers the cluster's reconcilers: one <see cref="Janitor"/> and one <see cref="OrphanRunnerSweeper"/>.</summary>
public static class JanitorRegistration
{
    /// <summary>One reconciler for the cluster; it also sweeps when a node is removed, so the jobs that node hosted
    /// come back on another node at once instead of at the next sighting.</summary>
    public static AkkaConfigurationBuilder AddJanitor(this AkkaConfigurationBuilder builder, TimeSpan reconcileInterval, SingletonPlacement placement) =>
        builder.WithSingletonOf<JanitorKey>(
            "janitor",
            registry => Janitor.Props(registry.Get<VmInventoryKey>(), registry.Get<JobRegion>(), reconcileInterval),
            placement,
            createProxy: false);

    /// <summary>One sweeper of orphaned runner registrations for the cluster (conditional listings: ~free when idle).</summary>
    public static AkkaConfigurationBuilder AddOrphanRunnerSweeper(
        this AkkaConfigurationBuilder builder, IGitHubActions gitHub, TimeSpan interval, TimeSpan grace, Action deleted, SingletonPlacement placement) =>
        builder.WithSingletonOf<OrphanRunnerSweeperKey>(
            "runner-sweeper",
            registry => OrphanRunnerSweeper.Props(registry.Get<ConfigWatcherKey>(), gitHub, registry.Get<JobRegion>(), interval, grace, deleted),
            placement,
            createProxy: false);
}
