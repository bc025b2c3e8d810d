using Blip.Actors.Runners;

namespace Blip.Actors.Tests.Runners;

public sealed class RunnerReleasesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly RunnerRelease[] Releases =
    [
        new("v2.331.0", Now.AddDays(-10)),
        new("v2.330.0", Now.AddDays(-25)),
        new("v2.329.0", Now.AddDays(-60)),
        new("v2.332.0", Now.AddDays(-1), Prerelease: true),
        new("v2.333.0", Now.AddDays(-1), Draft: true),
    ];

    [Fact]
    public void The_newest_release_is_current_whatever_its_age()
    {
        var currency = RunnerReleases.Assess("2.331.0", Releases, Now)!;

        Assert.Equal((0d, false, (DateTimeOffset?)null, "2.331.0"), (currency.DaysBehind, currency.Warn, currency.Deadline, currency.Newest));
    }

    [Fact]
    public void The_window_runs_from_the_first_newer_release_and_warns_after_23_days()
    {
        var currency = RunnerReleases.Assess("2.329.0", Releases, Now)!;

        Assert.Equal(25, currency.DaysBehind, 3);
        Assert.True(currency.Warn);
        Assert.Equal(Now.AddDays(5), currency.Deadline);
        Assert.Equal("2.331.0", currency.Newest); // prereleases and drafts do not count
    }

    [Fact]
    public void A_newer_release_younger_than_23_days_does_not_warn_yet()
    {
        var currency = RunnerReleases.Assess("2.330.0", Releases, Now)!;

        Assert.Equal(10, currency.DaysBehind, 3);
        Assert.False(currency.Warn);
        Assert.False(RunnerReleases.Assess("2.330.0", Releases, Now.AddDays(12.9))!.Warn);
        Assert.True(RunnerReleases.Assess("2.330.0", Releases, Now.AddDays(13))!.Warn);
    }

    [Fact]
    public void An_unknown_version_or_no_releases_say_nothing_alarming()
    {
        Assert.Null(RunnerReleases.Assess(null, Releases, Now));
        Assert.False(RunnerReleases.Assess("2.300.0", [], Now)!.Warn);
    }

    [Fact]
    public void Days_left_count_down_to_the_deadline_and_stop_at_zero()
    {
        Assert.Equal(5, RunnerReleases.DaysLeft(RunnerReleases.Assess("2.329.0", Releases, Now)!, Now), 3);
        Assert.Equal(0, RunnerReleases.DaysLeft(RunnerReleases.Assess("2.329.0", Releases, Now.AddDays(9))!, Now.AddDays(9)));
        Assert.Equal(30, RunnerReleases.DaysLeft(RunnerReleases.Assess("2.331.0", Releases, Now)!, Now));
    }

    [Fact]
    public void The_warning_names_the_version_the_newer_release_the_date_and_the_image()
    {
        var currency = RunnerReleases.Assess("2.329.0", Releases, Now)!;

        var open = RunnerReleases.Describe(currency, currency.Newest!, currency.Deadline!.Value, Now);
        var closed = RunnerReleases.Describe(currency, currency.Newest!, currency.Deadline!.Value, Now.AddDays(6));

        Assert.Equal("runner 2.329.0 started on this node's VMs is behind actions/runner 2.331.0: GitHub's 30-day window to update closes " +
                     "2026-12-06 12:00 UTC (in 5 days); then GitHub refuses it; rebuild the VM image with a current runner (images/github-runner, " +
                     "RUNNER_VERSION=2.331.0) and roll the pool", open);
        Assert.Contains("window to update closed 2026-12-06 12:00 UTC: GitHub may refuse it now;", closed, StringComparison.Ordinal);
    }
}
