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

    [Fact]
    public void A_delivery_another_node_saw_counts_and_an_older_one_never_moves_the_last_back()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        var health = new WebhookHealth(clock);
        DateTimeOffset? raised = null;
        health.Verified += at => raised = at;

        health.Observe(clock.Now.AddMinutes(-1));
        Assert.True(health.Healthy);
        Assert.Null(raised); // only this node's own deliveries are passed on

        health.Observe(clock.Now.AddMinutes(-5));
        Assert.Equal(clock.Now.AddMinutes(-1), health.LastDelivery);

        health.DeliveryVerified();
        Assert.Equal(clock.Now, raised);
        Assert.Equal(clock.Now, health.LastDelivery);
    }
}
