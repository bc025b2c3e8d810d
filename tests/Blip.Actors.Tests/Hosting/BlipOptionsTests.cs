using Blip.Actors.Hosting;

namespace Blip.Actors.Tests.Hosting;

public sealed class BlipOptionsTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(600)]
    [InlineData(1800)]
    public void The_hard_cap_may_be_lowered_down_to_ten_seconds(int seconds)
    {
        Assert.Empty(new BlipOptions { MaxDurationSeconds = seconds }.Validate());
    }

    [Theory]
    [InlineData(1801)]
    [InlineData(86400)]
    [InlineData(9)]
    public void A_hard_cap_above_the_specs_thirty_minutes_or_below_ten_seconds_is_one_error_naming_it(int seconds)
    {
        var error = Assert.Single(new BlipOptions { MaxDurationSeconds = seconds }.Validate());
        Assert.Contains($"Blip:MaxDurationSeconds '{seconds}'", error, StringComparison.Ordinal);
        Assert.Contains("1800", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void An_in_progress_listing_cycle_outside_1_to_100_polls_is_one_error_naming_it(int every)
    {
        var error = Assert.Single(new BlipOptions { PollInProgressEvery = every }.Validate());
        Assert.Contains($"Blip:PollInProgressEvery '{every}'", error, StringComparison.Ordinal);
        Assert.Empty(new BlipOptions { PollInProgressEvery = 1 }.Validate());
        Assert.Equal(15, new BlipOptions().ForGitHub().PollInProgressEvery);
    }

    [Theory]
    [InlineData("00:00:00.5")]
    [InlineData("-00:01:00")]
    public void A_runner_release_check_interval_under_a_second_other_than_zero_is_one_error_naming_it(string interval)
    {
        var error = Assert.Single(new BlipOptions { RunnerReleaseCheckInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) }.Validate());
        Assert.Contains("Blip:RunnerReleaseCheckInterval", error, StringComparison.Ordinal);
        Assert.Empty(new BlipOptions { RunnerReleaseCheckInterval = TimeSpan.Zero }.Validate());
        Assert.Equal(TimeSpan.FromHours(1), new BlipOptions().RunnerReleaseCheckInterval);
    }

    [Fact]
    public void The_namespace_defaults_to_the_pods_own_from_the_service_account_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"blip-ns-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(file, "ci-runners\n");
            Assert.Equal("ci-runners", BlipOptions.DefaultNamespace(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Outside_a_pod_the_namespace_defaults_to_blip()
    {
        Assert.Equal("blip", BlipOptions.DefaultNamespace(Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}")));
    }
}
