using Akka.Actor;
using Akka.Event;
using Blip.Actors.Config;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Polling;

/// <summary>
/// Keeps exactly one <see cref="RepoPoller"/> per configured repo while both the PAT and the ConfigMap are
/// usable; starts and stops pollers as the config changes, with no restart. Runs as a cluster singleton,
/// so a repo is polled by one node of the cluster.
/// </summary>
public sealed class PollerCoordinator : ReceiveActor
{
    private readonly IActorRef _config;
    private readonly IGitHubActions _gitHub;
    private readonly IActorRef _jobs;
    private readonly TimeSpan _floor;
    private readonly TimeSpan _spacing;
    private TimeSpan _interval;
    private readonly Func<TimeSpan, TimeSpan> _backstop;
    private readonly Dictionary<RepoName, IActorRef> _pollers = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public PollerCoordinator(IActorRef config, IGitHubActions gitHub, IActorRef jobs, TimeSpan floor, TimeSpan spacing, Func<TimeSpan, TimeSpan> backstop)
    {
        _backstop = backstop;
        _floor = floor;
        _spacing = spacing;
        _config = config;
        _gitHub = gitHub;
        _jobs = jobs;
        _interval = floor;

        Receive<ConfigProtocol.SettingsChanged>(Apply);
        Receive<PollerQueries.GetPolledRepos>(_ => Sender.Tell(new PollerQueries.PolledRepos(_pollers.Keys.Select(r => r.FullName).Order().ToList())));
        ReceiveAny(Unhandled);
    }

    public static Props Props(IActorRef config, IGitHubActions gitHub, IActorRef jobs, TimeSpan floor, TimeSpan spacing, Func<TimeSpan, TimeSpan> backstop) =>
        Akka.Actor.Props.Create(() => new PollerCoordinator(config, gitHub, jobs, floor, spacing, backstop));

    /// <summary>The floor, or more with many repos: every poll is a few GETs, and GitHub's secondary limit counts them (304s too).</summary>
    public static TimeSpan IntervalFor(int repos, TimeSpan floor, TimeSpan spacing) =>
        TimeSpan.FromTicks(Math.Max(floor.Ticks, spacing.Ticks * repos));

    protected override void PreStart() => _config.Tell(new ConfigProtocol.Subscribe(Self));

    protected override void PostStop() => _config.Tell(new ConfigProtocol.Unsubscribe(Self));

    private void Apply(ConfigProtocol.SettingsChanged settings)
    {
        var wanted = settings.CanPoll ? settings.Config!.Repos.ToHashSet() : [];
        foreach (var gone in _pollers.Keys.Where(r => !wanted.Contains(r)).ToList())
        {
            _pollers[gone].Tell(PollerProtocol.StopPolling.Instance);
            _pollers.Remove(gone);
        }

        var interval = IntervalFor(wanted.Count, _floor, _spacing);
        var intervalChanged = interval != _interval;
        _interval = interval;
        foreach (var repo in wanted)
        {
            if (_pollers.TryGetValue(repo, out var poller))
            {
                poller.Tell(new PollerProtocol.LabelsChanged(settings.Config!.RunnerLabels, settings.Config.Pools));
                if (intervalChanged)
                {
                    poller.Tell(new PollerProtocol.IntervalChanged(interval));
                }

                continue;
            }

            // Owners never contain '_', so owner__name is unique and a valid actor name.
            var name = $"{repo.Owner}__{repo.Name}-{Guid.NewGuid().ToString("N")[..6]}";
            _pollers[repo] = Context.ActorOf(RepoPoller.Props(repo, settings.Config!.RunnerLabels, _gitHub, _jobs, _interval, _backstop, settings.Config.Pools), Uri.EscapeDataString(name));
        }

        _log.Debug("polling {0} repo(s)", _pollers.Count);
    }
}

public static class PollerQueries
{
    public sealed class GetPolledRepos
    {
        public static readonly GetPolledRepos Instance = new();
    }

    public sealed record PolledRepos(IReadOnlyList<string> Repos);
}
