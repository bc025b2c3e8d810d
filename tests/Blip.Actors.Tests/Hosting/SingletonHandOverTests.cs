using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Blip.Actors.Hosting;

namespace Blip.Actors.Tests.Hosting;

/// <summary>Issue 15 (failover): why our singletons are made with their own removal margin, and that job shards keep the
/// full one, read from an actor system with the controller's split-brain resolver.</summary>
public sealed class SingletonHandOverTests
{
    [Fact]
    public async Task Akka_makes_a_singleton_wait_the_full_removal_margin_and_the_shard_coordinator_keeps_it()
    {
        var config = ConfigurationFactory.ParseString(
            "akka.actor.provider = cluster\nakka.remote.dot-netty.tcp.hostname = 127.0.0.1\nakka.remote.dot-netty.tcp.port = 0\n" +
            "akka.cluster.downing-provider-class = \"Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster\"\n" +
            "akka.cluster.split-brain-resolver.active-strategy = keep-majority\nakka.cluster.split-brain-resolver.stable-after = 7s")
            .WithFallback(ClusterSharding.DefaultConfig());
        using var system = ActorSystem.Create("handover", config);
        try
        {
            // What Akka.Hosting's WithSingleton uses: the downing provider's margin, whatever akka.cluster.singleton says.
            Assert.Equal(TimeSpan.FromSeconds(7), ClusterSingletonManagerSettings.Create(system).RemovalMargin);
            // The shard coordinator's 0 means the same full margin: a removed node's job actors are never re-created early.
            Assert.Equal(TimeSpan.Zero, ClusterShardingSettings.Create(system).CoordinatorSingletonSettings.RemovalMargin);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void Our_singletons_hand_over_after_the_configured_margin_on_the_controller_role()
    {
        var placement = BlipControllerExtensions.SingletonPlacementOf(new BlipOptions { SingletonHandOverMargin = TimeSpan.FromMilliseconds(1500) });

        Assert.Equal((BlipControllerExtensions.ControllerRole, TimeSpan.FromMilliseconds(1500)), (placement.Role, placement.HandOverMargin));
        Assert.Equal(TimeSpan.FromMilliseconds(200), new BlipOptions().SingletonHandOverMargin);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    public void A_margin_not_above_zero_or_beyond_stable_after_is_named(int seconds)
    {
        var options = new BlipOptions { SingletonHandOverMargin = TimeSpan.FromSeconds(seconds), DowningStableAfter = TimeSpan.FromSeconds(7) };

        Assert.Contains(options.Validate(), e => e.StartsWith($"Blip:SingletonHandOverMargin '{TimeSpan.FromSeconds(seconds)}' must be above 0 and at most Blip:DowningStableAfter", StringComparison.Ordinal));
    }
}
