using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Runners;
using Blip.Actors.Tests.ActorFakes;

namespace Blip.Actors.Tests.Runners;

public sealed class RunnerReleaseWatchTests : TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly RunnerRelease[] Releases =
    [
        new("v2.331.0", T0.AddDays(-25)),
        new("v2.330.0", T0.AddDays(-60)),
    ];

    private readonly FakeGitHub _gitHub = new();
    private readonly FakeVmPool _pool = new();
    private readonly Akka.TestKit.TestProbe _assessed;
    private IActorRef _watch = ActorRefs.Nobody;

    public RunnerReleaseWatchTests()
    {
        _assessed = CreateTestProbe();
        Sys.EventStream.Subscribe(_assessed.Ref, typeof(RunnerReleaseEvents.CurrencyAssessed));
        _gitHub.OnListRunnerReleases = () => Task.FromResult<IReadOnlyList<RunnerRelease>>(Releases);
    }

    /// <summary>The watch, after its first check (at start, before any runner): nothing to assess yet, nothing listed.</summary>
    private async Task StartAsync()
    {
        _watch = Sys.ActorOf(RunnerReleaseWatch.Props(_gitHub, _pool, TimeSpan.FromHours(1), () => T0));
        var first = await _assessed.ExpectMsgAsync<RunnerReleaseEvents.CurrencyAssessed>();
        Assert.Null(first.Currency);
    }

    private async Task<RunnerReleaseEvents.CurrencyAssessed> StartedAsync(string version)
    {
        Sys.EventStream.Publish(new RunnerReleaseEvents.RunnerVersionStarted(version));
        return await _assessed.ExpectMsgAsync<RunnerReleaseEvents.CurrencyAssessed>();
    }

    private async Task<RunnerReleaseEvents.CurrencyAssessed> CheckAsync()
    {
        _watch.Tell(RunnerReleaseWatch.Check.Instance);
        return await _assessed.ExpectMsgAsync<RunnerReleaseEvents.CurrencyAssessed>();
    }

    [Fact]
    public async Task A_runner_whose_window_closes_within_a_week_is_warned_once_on_the_pool_and_measured_at_every_check()
    {
        await StartAsync();

        var assessed = await StartedAsync("2.330.0");
        var again = await CheckAsync();

        Assert.Equal(("2.330.0", "2.331.0"), (assessed.Currency!.Version, assessed.Currency.Newest));
        Assert.Equal(5, assessed.DaysLeft!.Value, 3);
        Assert.Equal(5, again.DaysLeft!.Value, 3);
        var (vm, evt) = Assert.Single(_pool.Events);
        Assert.Equal(("", "RunnerReleaseWindowClosing", true), (vm, evt.Reason, evt.Warning));
        Assert.StartsWith("runner 2.330.0 started on this node's VMs is behind actions/runner 2.331.0: GitHub's 30-day window to update closes 2026-12-06", evt.Message);
        Assert.Contains("images/github-runner, RUNNER_VERSION=2.331.0", evt.Message);
        Assert.Equal(2, _gitHub.RunnerReleaseListings);
    }

    [Fact]
    public async Task Before_any_runner_started_no_check_calls_github()
    {
        await StartAsync();

        var assessed = await CheckAsync();

        Assert.Null(assessed.Currency);
        Assert.Equal(0, _gitHub.RunnerReleaseListings);
    }

    [Fact]
    public async Task A_current_runner_is_measured_with_the_whole_window_and_not_warned()
    {
        await StartAsync();

        var assessed = await StartedAsync("2.331.0");

        Assert.Equal(30d, assessed.DaysLeft);
        Assert.Empty(_pool.Events);
    }

    [Fact]
    public async Task A_failed_listing_is_one_warning_and_the_last_good_list_still_judges_the_runner()
    {
        await StartAsync();
        await StartedAsync("2.330.0");
        _gitHub.OnListRunnerReleases = () => Task.FromException<IReadOnlyList<RunnerRelease>>(new GitHubCallException("list runner releases", System.Net.HttpStatusCode.BadGateway));

        RunnerReleaseEvents.CurrencyAssessed? assessed = null;
        await EventFilter.Warning(contains: "could not list GitHub's actions/runner releases (list runner releases failed with HTTP 502); keeping the last list (2 releases)")
            .ExpectOneAsync(async () => assessed = await CheckAsync());

        Assert.Equal(("2.330.0", "2.331.0"), (assessed!.Currency!.Version, assessed.Currency.Newest));
        Assert.Equal(2, _gitHub.RunnerReleaseListings);
        Assert.Equal("RunnerReleaseWindowClosing", Assert.Single(_pool.Events).Event.Reason);
    }

    [Fact]
    public async Task The_newest_runner_started_in_the_interval_is_judged_and_an_older_one_alone_in_the_next()
    {
        await StartAsync();
        await StartedAsync("2.331.0");
        Sys.EventStream.Publish(new RunnerReleaseEvents.RunnerVersionStarted("2.330.0")); // older: not judged at once

        var first = await CheckAsync();
        Sys.EventStream.Publish(new RunnerReleaseEvents.RunnerVersionStarted("2.330.0"));
        var second = await CheckAsync();
        var third = await CheckAsync(); // none started since: the last one still stands

        Assert.Equal("2.331.0", first.Currency!.Version);
        Assert.Equal("2.330.0", second.Currency!.Version);
        Assert.Equal("2.330.0", third.Currency!.Version);
        Assert.Equal("2.330.0", Assert.Single(_pool.Events).Event.Message.Split(' ')[1]);
    }
}
