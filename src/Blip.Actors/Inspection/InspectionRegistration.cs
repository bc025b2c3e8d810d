using Akka.Hosting;

namespace Blip.Actors.Inspection;

/// <summary>Registry key of the node's <see cref="ClusterEventLog"/>.</summary>
public sealed class ClusterEventLogKey;

/// <summary>The inspection actors of a node: the cluster event log and the job metrics listener.</summary>
public static class InspectionActorsExtensions
{
    public static AkkaConfigurationBuilder WithInspection(this AkkaConfigurationBuilder builder, BlipMetrics metrics) =>
        builder.WithActors((system, registry) =>
        {
            registry.Register<ClusterEventLogKey>(system.ActorOf(ClusterEventLog.Props(), "inspection-cluster-events"));
            system.ActorOf(JobMetricsListener.Props(metrics), "inspection-job-metrics");
        });
}
