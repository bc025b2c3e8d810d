using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Blip.Actors.Config;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Blip.Actors.Tests.ActorFakes;

namespace Blip.Actors.Tests.Polling;

/// <summary>
/// The coordinator against the config actor's settings (a probe) and a fake GitHub that counts list calls per repo:
/// one poller per configured repo while both objects exist, none otherwise.
/// </summary>
public sealed class PollerCoordinatorTests : TestKit
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, int> _lists = new(StringComparer.Ordinal);
    private readonly TestProbe _config;
    private readonly IActorRef _coordinator;

    public PollerCoordinatorTests()
    {
        var gitHub = new FakeGitHub
        {
            OnList = repo =>
            {
                _lists.AddOrUpdate(repo.FullName, 1, (_, n) => n + 1);
                return Task.FromResult<IReadOnlyList<QueuedJob>>([]);
            },
        };
        _config = CreateTestProbe();
        _coordinator = Sys.ActorOf(PollerCoordinator.Props(_config.Ref, gitHub, CreateTestProbe().Ref, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(10), interval => interval));
    }

    private static ConfigProtocol.SettingsChanged Settings(string repos, bool hasPat = true) =>
        new(ActionsConfig.Parse("self-hosted,blip", repos).Config, hasPat, Synced: true);

    private int Lists(string repo) => _lists.GetValueOrDefault(repo);

    private async Task<IReadOnlyList<string>> PolledAsync() =>
        (await _coordinator.Ask<PollerQueries.PolledRepos>(PollerQueries.GetPolledRepos.Instance, Guard)).Repos;

    private async Task PolledMoreAsync(string repo, int times)
    {
        var now = Lists(repo);
        await AwaitConditionAsync(() => Task.FromResult(Lists(repo) >= now + times), Guard);
    }

    /// <summary>The poller of <paramref name="owner"/>'s repo (children are named owner__name-suffix).</summary>
    private async Task<IActorRef> PollerOfAsync(string owner)
    {
        var identity = await Sys.ActorSelection($"{_coordinator.Path}/{owner}__*").Ask<ActorIdentity>(new Identify(owner), Guard);
        return identity.Subject ?? throw new InvalidOperationException($"no poller for {owner}");
    }

    [Fact]
    public async Task It_subscribes_to_the_settings_and_polls_every_configured_repo()
    {
        await _config.ExpectMsgAsync<ConfigProtocol.Subscribe>(m => Assert.Equal(_coordinator, m.Subscriber));

        _coordinator.Tell(Settings("org/a,org/b"));

        Assert.Equal(["org/a", "org/b"], await PolledAsync());
        await PolledMoreAsync("org/a", 2);
        await PolledMoreAsync("org/b", 2);
    }

    [Fact]
    public async Task A_repo_removed_from_the_configmap_stops_being_polled_and_the_others_go_on()
    {
        _coordinator.Tell(Settings("one/repo,two/repo"));
        await PolledMoreAsync("one/repo", 1);
        var removed = await PollerOfAsync("one");
        Watch(removed);

        _coordinator.Tell(Settings("two/repo"));

        Assert.Equal(["two/repo"], await PolledAsync());
        await ExpectTerminatedAsync(removed, Guard);
        // Stopped, it calls no more (a call in flight when told to stop answered before it stopped).
        var afterStop = Lists("one/repo");
        await PolledMoreAsync("two/repo", 3);
        Assert.Equal(afterStop, Lists("one/repo"));
    }

    [Fact]
    public async Task Without_the_pat_every_poller_stops_and_with_it_back_polling_resumes()
    {
        _coordinator.Tell(Settings("org/a"));
        await PolledMoreAsync("org/a", 1);
        var poller = await PollerOfAsync("org");
        Watch(poller);

        _coordinator.Tell(Settings("org/a", hasPat: false));

        Assert.Empty(await PolledAsync());
        await ExpectTerminatedAsync(poller, Guard);
        _coordinator.Tell(Settings("org/a"));
        Assert.Equal(["org/a"], await PolledAsync());
        await PolledMoreAsync("org/a", 2);
    }
}
