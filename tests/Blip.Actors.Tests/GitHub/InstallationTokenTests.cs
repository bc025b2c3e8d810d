using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class InstallationTokenTests
{
    private static readonly DateTimeOffset Obtained = new(2026, 12, 1, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_hour_token_is_used_until_five_minutes_before_it_expires()
    {
        var token = new InstallationToken("ghs_x", Obtained, Obtained.AddHours(1));

        Assert.False(token.NeedsRefresh(Obtained.AddMinutes(54)));
        Assert.True(token.NeedsRefresh(Obtained.AddMinutes(55)));
        Assert.True(token.NeedsRefresh(Obtained.AddHours(2)));
    }

    [Fact]
    public void A_short_lived_token_is_renewed_with_a_quarter_of_its_life_left()
    {
        var token = new InstallationToken("ghs_x", Obtained, Obtained.AddSeconds(20));

        Assert.False(token.NeedsRefresh(Obtained.AddSeconds(14)));
        Assert.True(token.NeedsRefresh(Obtained.AddSeconds(15)));
    }

    [Fact]
    public void A_token_already_expired_when_obtained_is_due_at_once()
    {
        var token = new InstallationToken("ghs_x", Obtained, Obtained.AddSeconds(-1));

        Assert.True(token.NeedsRefresh(Obtained));
    }

    [Fact]
    public void Its_text_never_shows_the_token()
    {
        Assert.DoesNotContain("ghs_secret", new InstallationToken("ghs_secret", Obtained, Obtained.AddHours(1)).ToString(), StringComparison.Ordinal);
    }
}
