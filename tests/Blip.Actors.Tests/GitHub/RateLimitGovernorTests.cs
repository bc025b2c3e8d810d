using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class RateLimitGovernorTests
{
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void With_budget_left_everything_goes_at_once_and_intervals_are_not_stretched()
    {
        var governor = new RateLimitGovernor(new ManualClock(Start));
        governor.Observe(5000, 4000, Start.AddMinutes(30), success: true);

        Assert.Equal(TimeSpan.Zero, governor.WaitBefore(GitHubPriority.Discovery));
        Assert.Equal(TimeSpan.FromSeconds(2), governor.Pace(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void A_low_budget_stretches_poll_intervals()
    {
        var governor = new RateLimitGovernor(new ManualClock(Start));
        governor.Observe(5000, 250, Start.AddMinutes(30), success: true);

        Assert.Equal(TimeSpan.FromSeconds(8), governor.Pace(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Below_the_reserve_discovery_waits_for_the_reset_but_jit_still_goes()
    {
        var governor = new RateLimitGovernor(new ManualClock(Start));
        governor.Observe(5000, 50, Start.AddMinutes(10), success: true);

        Assert.Equal(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1), governor.WaitBefore(GitHubPriority.Discovery));
        Assert.Equal(TimeSpan.Zero, governor.WaitBefore(GitHubPriority.Critical));
    }

    [Fact]
    public void At_zero_nothing_is_sent_until_the_reset()
    {
        var clock = new ManualClock(Start);
        var governor = new RateLimitGovernor(clock);
        governor.Observe(5000, 0, Start.AddSeconds(90), success: true);

        Assert.Equal(TimeSpan.FromSeconds(91), governor.WaitBefore(GitHubPriority.Critical));
        clock.Now = Start.AddSeconds(91);
        Assert.Equal(TimeSpan.Zero, governor.WaitBefore(GitHubPriority.Critical));
    }

    [Fact]
    public void A_refusal_at_zero_just_after_the_reset_waits_a_second_not_a_minute()
    {
        var clock = new ManualClock(Start);
        var governor = new RateLimitGovernor(clock);

        var wait = governor.OnLimited(null, remaining: 0, reset: Start.AddMilliseconds(-300));

        Assert.Equal(TimeSpan.FromSeconds(0.7), wait);
    }

    [Fact]
    public void Retry_after_is_honoured_to_the_second()
    {
        var clock = new ManualClock(Start);
        var governor = new RateLimitGovernor(clock);

        var wait = governor.OnLimited(TimeSpan.FromSeconds(7), remaining: 100, reset: Start.AddMinutes(30));

        Assert.Equal(TimeSpan.FromSeconds(7), wait);
        Assert.Equal(TimeSpan.FromSeconds(7), governor.WaitBefore(GitHubPriority.Critical));
        Assert.Contains("retry-after", governor.State.PauseReason);
        clock.Now = Start.AddSeconds(7);
        Assert.Equal(TimeSpan.Zero, governor.WaitBefore(GitHubPriority.Discovery));
    }

    [Fact]
    public void A_limit_without_retry_after_backs_off_exponentially_from_a_minute()
    {
        var clock = new ManualClock(Start);
        var governor = new RateLimitGovernor(clock);

        Assert.Equal(TimeSpan.FromMinutes(1), governor.OnLimited(null, remaining: 10, reset: null));
        Assert.Equal(TimeSpan.FromMinutes(2), governor.OnLimited(null, remaining: 10, reset: null));
        governor.Observe(5000, 10, null, success: true);
        Assert.Equal(TimeSpan.FromMinutes(1), governor.OnLimited(null, remaining: 10, reset: null));
    }
}
