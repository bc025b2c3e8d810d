using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Shared;

public sealed class BackoffTests
{
    [Fact]
    public void Each_delay_doubles_the_last_up_to_the_cap_and_a_reset_starts_over()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.Equal([1, 2, 4, 5, 5], Enumerable.Range(0, 5).Select(_ => backoff.Next().TotalSeconds));
        backoff.Reset();
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Next());
    }

    [Fact]
    public void A_reset_to_a_new_start_is_where_later_resets_start_too()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        backoff.Next();
        backoff.Reset(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), backoff.Next());
        Assert.Equal(TimeSpan.FromSeconds(6), backoff.Next());
        backoff.Reset();
        Assert.Equal(TimeSpan.FromSeconds(3), backoff.Next());
    }

    [Fact]
    public void A_start_beyond_the_cap_is_kept_once_then_the_cap_rules()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(60), backoff.Next());
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Next());
    }
}
