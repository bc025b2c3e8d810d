using Akka.Hosting;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Polling;

/// <summary>Registry key of the <see cref="PollerCoordinator"/> singleton.</summary>
public sealed class PollerCoordinatorKey;

/// <summary>Registers the cluster's one <see cref="PollerCoordinator"/> (singleton <c>/user/pollers/pollers</c>); the registry
/// holds its proxy, so any node can ask it.</summary>
public static class PollingRegistration
{
    /// <param name="backstop">The poll interval a poller keeps to, given its own (longer while webhooks arrive).</param>
    public static AkkaConfigurationBuilder AddPolling(
        this AkkaConfigurationBuilder builder, PollingOptions options, IGitHubActions gitHub, Func<TimeSpan, TimeSpan> backstop, SingletonPlacement placement) =>
        builder.WithSingletonOf<PollerCoordinatorKey>(
            "pollers",
            registry => PollerCoordinator.Props(
                registry.Get<ConfigWatcherKey>(), gitHub, registry.Get<JobRegion>(), options.PollInterval, options.PollSpacingPerRepo, backstop),
            placement,
            createProxy: true);
}
