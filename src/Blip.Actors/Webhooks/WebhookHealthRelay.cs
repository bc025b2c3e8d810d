using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;

namespace Blip.Actors.Webhooks;

/// <summary>
/// Makes webhook health the cluster's, not one node's: deliveries land on any node (behind a load balancer), the
/// pollers run on one. Each node's relay publishes the deliveries its receiver verified (at most one message per
/// <see cref="PublishEvery"/>) on a distributed pub-sub topic and feeds what the others publish into its own
/// <see cref="WebhookHealth"/>.
/// </summary>
public sealed class WebhookHealthRelay : ReceiveActor
{
    public const string Topic = "blip-webhook-health";

    /// <summary>Health is judged over ten minutes: one message every few seconds per node says all there is.</summary>
    public static readonly TimeSpan PublishEvery = TimeSpan.FromSeconds(5);

    private readonly WebhookHealth _health;
    private readonly IActorRef _mediator;
    private readonly Action<DateTimeOffset> _onVerified;
    private DateTimeOffset _lastPublished = DateTimeOffset.MinValue;

    public WebhookHealthRelay(WebhookHealth health)
    {
        _health = health;
        _mediator = DistributedPubSub.Get(Context.System).Mediator;
        var self = Self;
        _onVerified = at => self.Tell(new Verified(at));

        Receive<Verified>(m =>
        {
            if (m.At - _lastPublished >= PublishEvery)
            {
                _lastPublished = m.At;
                _mediator.Tell(new Publish(Topic, new WebhookDeliverySeen(m.At.UtcTicks)));
            }
        });
        Receive<WebhookDeliverySeen>(m => _health.Observe(new DateTimeOffset(m.AtUtcTicks, TimeSpan.Zero)));
        Receive<SubscribeAck>(_ => { });
        ReceiveAny(Unhandled);
    }

    public static Props Props(WebhookHealth health) => Akka.Actor.Props.Create(() => new WebhookHealthRelay(health));

    protected override void PreStart()
    {
        _mediator.Tell(new Subscribe(Topic, Self));
        _health.Verified += _onVerified;
    }

    protected override void PostStop() => _health.Verified -= _onVerified;

    private sealed record Verified(DateTimeOffset At) : INoSerializationVerificationNeeded;
}

/// <summary>A webhook delivery was accepted by some node at this time (UTC ticks). Sent between nodes.</summary>
public sealed record WebhookDeliverySeen(long AtUtcTicks);
