using Akka.Cluster.Hosting;
using Akka.Hosting;

namespace Blip.Actors.Inspection;

/// <summary>The inspection actors of a node: cluster event log, job metrics listener, and a proxy to the poller coordinator.</summary>
public static class InspectionActorsExtensions
{
    public static AkkaConfigurationBuilder WithInspection(this AkkaConfigurationBuilder builder, BlipMetrics metrics, string pollerSingletonName) =>
        builder
            .WithActors((system, registry) =>
            {
                registry.Register<ClusterEventLogKey>(system.ActorOf(ClusterEventLog.Props(), "inspection-cluster-events"));
                system.ActorOf(JobMetricsListener.Props(metrics), "inspection-job-metrics");
            })
            .WithSingletonProxy<PollerCoordinatorProxyKey>(pollerSingletonName, new ClusterSingletonOptions { Role = "controller" });
}
