namespace Blip.Actors.Webhooks;

/// <summary>
/// Whether webhooks are flowing: a verified delivery within the last <see cref="Window"/>. While they are, polling is
/// only the backstop and may run at <c>Blip:PollIntervalWithWebhooks</c> instead of the floor. Shared by the receiver
/// (writer) and the pollers (readers) of one node.
/// </summary>
public sealed class WebhookHealth(TimeProvider? clock = null)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private long _lastDeliveryTicks;

    public DateTimeOffset? LastDelivery => Interlocked.Read(ref _lastDeliveryTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public bool Healthy => LastDelivery is { } last && _clock.GetUtcNow() - last < Window;

    public void DeliveryVerified() => Interlocked.Exchange(ref _lastDeliveryTicks, _clock.GetUtcNow().UtcTicks);

    /// <summary>The interval to poll at: the backstop interval while webhooks flow, else the given one.</summary>
    public TimeSpan PollInterval(TimeSpan interval, TimeSpan backstop) =>
        Healthy && backstop > interval ? backstop : interval;
}
