using Blip.Actors.Webhooks;

namespace Blip.Actors.Tests.Webhooks;

public sealed class WebhookHealthTests
{
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Polling_backs_off_only_while_verified_deliveries_arrive()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        var health = new WebhookHealth(clock);
        var floor = TimeSpan.FromSeconds(2);
        var backstop = TimeSpan.FromSeconds(30);

        Assert.Equal(floor, health.PollInterval(floor, backstop));

        health.DeliveryVerified();
        Assert.Equal(backstop, health.PollInterval(floor, backstop));

        clock.Now += WebhookHealth.Window;
        Assert.Equal(floor, health.PollInterval(floor, backstop));
    }
}
