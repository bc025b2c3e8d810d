using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Blip.Actors.Webhooks;

namespace Blip.Actors.Tests.Webhooks;

/// <summary>Two real cluster nodes in one process: a delivery one node's receiver verified makes the other node's pollers slow down too.</summary>
public sealed class WebhookHealthRelayTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Akka.Configuration.Config ClusterConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.loglevel = WARNING
        """);

    public WebhookHealthRelayTests()
        : base(ClusterConfig, "relay")
    {
    }

    [Fact]
    public async Task A_delivery_verified_on_one_node_makes_webhooks_healthy_on_the_other()
    {
        using var other = ActorSystem.Create("relay", ClusterConfig);
        try
        {
            var address = Cluster.Get(Sys).SelfAddress;
            Cluster.Get(Sys).Join(address);
            Cluster.Get(other).Join(address);
            await AwaitAssertAsync(
                () => Assert.Equal(2, Cluster.Get(Sys).State.Members.Count(m => m.Status == MemberStatus.Up)),
                TimeSpan.FromSeconds(60));

            var pollerNode = new WebhookHealth();
            var receiverNode = new WebhookHealth();
            Sys.ActorOf(WebhookHealthRelay.Props(pollerNode), "webhook-health");
            other.ActorOf(WebhookHealthRelay.Props(receiverNode), "webhook-health");

            Assert.False(pollerNode.Healthy);

            // Pub-sub learns the other node's subscription by gossip, so a delivery verified before that reaches nobody;
            // deliveries keep coming (as they do from GitHub) until one has crossed.
            await AwaitAssertAsync(
                () =>
                {
                    receiverNode.DeliveryVerified();
                    Assert.True(pollerNode.Healthy);
                },
                TimeSpan.FromSeconds(60),
                TimeSpan.FromMilliseconds(500));
            Assert.True(pollerNode.LastDelivery <= receiverNode.LastDelivery);
        }
        finally
        {
            await other.Terminate();
        }
    }
}
