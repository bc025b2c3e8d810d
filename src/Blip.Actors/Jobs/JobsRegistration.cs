using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Persistence.Sql.Query;

namespace Blip.Actors.Jobs;

/// <summary>Registry key of the job shard region.</summary>
public sealed class JobRegion;

/// <summary>Registry key of the <see cref="JobRetentionSweeper"/> singleton.</summary>
public sealed class JobRetentionSweeperKey;

/// <summary>Registry key of the node's <see cref="VmStopRelay"/>, the VM inventory's listener.</summary>
public sealed class VmStopRelayKey;

/// <summary>Registers the job shard region, the serializer of its persisted events, the node's relay of stopped VMs
/// to their jobs, and the cluster's one <see cref="JobRetentionSweeper"/>.</summary>
public static class JobsRegistration
{
    /// <summary>The shard region's type name (also what <c>blipctl sharding</c> shows).</summary>
    public const string RegionName = "job";

    /// <param name="dependencies">What each job actor uses, resolved when the entity starts (the VM inventory is
    /// registered after the region).</param>
    /// <param name="role">The cluster role that hosts job actors.</param>
    public static AkkaConfigurationBuilder AddJobs(this AkkaConfigurationBuilder builder, Func<IActorRegistry, JobDependencies> dependencies, string role) =>
        builder
            .WithCustomSerializer("blip-job-events", [typeof(IJobEvent)], system => new JobEventSerializer(system))
            .WithShardRegion<JobRegion>(
                RegionName,
                (_, registry, _) => entityId => JobActor.Props(entityId, dependencies(registry)),
                new JobMessageExtractor(),
                new ShardOptions
                {
                    Role = role,
                    RememberEntities = false,
                    // Job actors passivate themselves when done; idle passivation would stop the timers of a running job.
                    ShouldPassivateIdleEntities = false,
                })
            .WithActors((system, registry) =>
                registry.Register<VmStopRelayKey>(system.ActorOf(VmStopRelay.Props(registry.Get<JobRegion>()), "vm-stop-relay")))
            .WithSingleton<JobRetentionSweeperKey>(
                "job-retention",
                (system, registry, _) => JobRetentionSweeper.Props(
                    registry.Get<JobRegion>(),
                    () => dependencies(registry).Options.JobRetention,
                    SqlReadJournal.Identifier,
                    DeletedJournalRows.From(system.Settings.Config)),
                new ClusterSingletonOptions { Role = role },
                createProxyToo: false);
}
