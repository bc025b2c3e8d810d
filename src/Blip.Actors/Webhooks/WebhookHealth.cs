namespace Blip.Actors.Webhooks;

/// <summary>
/// Whether webhooks are flowing: a verified delivery within the last <see cref="Window"/>. While they are, polling is
/// only the backstop and may run at <c>Blip:PollIntervalWithWebhooks</c> instead of the floor. Written by this node's
/// receiver and, through <see cref="WebhookHealthRelay"/>, by every other node's; read by the pollers (which run on one
/// node while deliveries land on any).
/// </summary>
public sealed class WebhookHealth(TimeProvider? clock = null)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private long _lastDeliveryTicks;

    public DateTimeOffset? LastDelivery => Interlocked.Read(ref _lastDeliveryTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public bool Healthy => LastDelivery is { } last && _clock.GetUtcNow() - last < Window;

    /// <summary>This node's receiver accepted a delivery for a configured repo (see <see cref="WebhookHealthRelay"/>,
    /// which tells the other nodes).</summary>
    public void DeliveryVerified()
    {
        var now = _clock.GetUtcNow();
        Observe(now);
        Verified?.Invoke(now);
    }

    /// <summary>A delivery accepted somewhere in the cluster at <paramref name="at"/>; an older one than known changes nothing.</summary>
    public void Observe(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        long seen;
        while ((seen = Interlocked.Read(ref _lastDeliveryTicks)) < ticks)
        {
            if (Interlocked.CompareExchange(ref _lastDeliveryTicks, ticks, seen) == seen)
            {
                return;
            }
        }
    }

    /// <summary>Raised for each delivery this node's receiver verified.</summary>
    public event Action<DateTimeOffset>? Verified;

    /// <summary>The interval to poll at: the backstop interval while webhooks flow, else the given one.</summary>
    public TimeSpan PollInterval(TimeSpan interval, TimeSpan backstop) =>
        Healthy && backstop > interval ? backstop : interval;
}
