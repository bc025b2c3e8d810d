using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Blip.Actors.Vms;

namespace Blip.Actors.Runners;

/// <summary>What the node's runner bootstrappers and its <see cref="RunnerReleaseWatch"/> say on the node's EventStream.</summary>
public static class RunnerReleaseEvents
{
    /// <summary>A runner of this version started on a VM (the bootstrapper read <c>bin/Runner.Listener --version</c>).</summary>
    public sealed record RunnerVersionStarted(string Version) : INoSerializationVerificationNeeded;

    /// <summary>The watch's latest assessment (the metric <c>blip_runner_release_days_left</c>); null before a runner
    /// version and a list of releases are both known.</summary>
    public sealed record CurrencyAssessed(RunnerCurrency? Currency, double? DaysLeft) : INoSerializationVerificationNeeded;
}

/// <summary>
/// The node's runner release watch. When the first runner starts on this node and then every
/// <c>Blip:RunnerReleaseCheckInterval</c> it lists GitHub's <c>actions/runner</c> releases (none before: with no runner
/// there is nothing to judge; a failed listing is one Warning line; the last good list is kept) and assesses the
/// newest runner version started on this node in the last interval (the one before, when none started since): when
/// <see cref="RunnerReleases.Assess"/> says GitHub's 30-day window closes within a week, one Warning line and one Warning
/// event on the VirtualMachinePool name the version, the newer release, the date and the image to rebuild, once per
/// (version, release). A newer version started between checks is assessed at once, against the list already read.
/// </summary>
public sealed class RunnerReleaseWatch : ReceiveActor, IWithTimers
{
    private const string CheckTimer = "check";
    private const string RetryTimer = "retry";

    /// <summary>How soon a failed listing is tried again while no list was ever read (else: the next check).</summary>
    public static readonly TimeSpan FirstListRetry = TimeSpan.FromMinutes(1);

    private readonly HashSet<(string Version, string Release)> _warned = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IGitHubActions _gitHub;
    private readonly IVmPool _pool;
    private readonly TimeSpan _interval;
    private readonly Func<DateTimeOffset> _now;
    private IReadOnlyList<RunnerRelease>? _releases;
    private Version? _running;
    private Version? _startedThisInterval;
    private bool _listing;

    public RunnerReleaseWatch(IGitHubActions gitHub, IVmPool pool, TimeSpan interval, Func<DateTimeOffset> now)
    {
        _gitHub = gitHub;
        _pool = pool;
        _interval = interval;
        _now = now;

        Receive<RunnerReleaseEvents.RunnerVersionStarted>(m => Started(RunnerVersion.Parse(m.Version)));
        Receive<Check>(_ =>
        {
            _running = _startedThisInterval ?? _running;
            _startedThisInterval = null;
            if (_running is null)
            {
                // No runner started on this node yet: nothing to judge, so no call to GitHub (none at all while the
                // controller has no PAT or no configuration).
                Assess();
                return;
            }

            List();
        });
        Receive<Listed>(m =>
        {
            _listing = false;
            _releases = m.Releases;
            Assess();
        });
        Receive<ListingFailed>(m =>
        {
            _listing = false;
            if (_releases is null)
            {
                // Without any list, an hour is too long to wait for the next try.
                var retry = _interval < FirstListRetry ? _interval : FirstListRetry;
                Timers.StartSingleTimer(RetryTimer, Check.Instance, retry);
                _log.Warning("runner releases: could not list GitHub's actions/runner releases ({0}); no list yet, trying again in {1}", m.Reason, retry);
            }
            else
            {
                _log.Warning("runner releases: could not list GitHub's actions/runner releases ({0}); keeping the last list ({1} releases) until the next check in {2}",
                    m.Reason, _releases.Count, _interval);
            }

            Assess();
        });
        ReceiveAny(Unhandled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="now">The clock (tests pass their own).</param>
    public static Props Props(IGitHubActions gitHub, IVmPool pool, TimeSpan interval, Func<DateTimeOffset>? now = null) =>
        Akka.Actor.Props.Create(() => new RunnerReleaseWatch(gitHub, pool, interval, now ?? (() => DateTimeOffset.UtcNow)));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(RunnerReleaseEvents.RunnerVersionStarted));
        Self.Tell(Check.Instance);
        Timers.StartPeriodicTimer(CheckTimer, Check.Instance, _interval);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Started(Version? version)
    {
        if (version is null)
        {
            return;
        }

        if (_startedThisInterval is null || version > _startedThisInterval)
        {
            _startedThisInterval = version;
        }

        // A newer runner than the one assessed (a rebuilt image, or the first runner since the start) is judged at once;
        // the first one, against the first list (read now).
        if (_running is null || version > _running)
        {
            _running = version;
            if (_releases is null)
            {
                List();
            }
            else
            {
                Assess();
            }
        }
    }

    private void List()
    {
        if (_listing)
        {
            return;
        }

        _listing = true;
        _gitHub.ListRunnerReleasesAsync(CancellationToken.None).PipeTo(Self,
            success: releases => new Listed(releases),
            failure: e => new ListingFailed(e.Message));
    }

    private void Assess()
    {
        var now = _now();
        var currency = _releases is null ? null : RunnerReleases.Assess(_running?.ToString(), _releases, now);
        Context.System.EventStream.Publish(new RunnerReleaseEvents.CurrencyAssessed(currency, currency is null ? null : RunnerReleases.DaysLeft(currency, now)));
        if (currency is not { Warn: true, Newest: { } newest, Deadline: { } deadline } || !_warned.Add((currency.Version, newest)))
        {
            return;
        }

        var message = RunnerReleases.Describe(currency, newest, deadline, now);
        _log.Warning("{0}", message);
        _ = _pool.RecordPoolEventAsync(new VmEvent("RunnerReleaseWindowClosing", message, Warning: true), CancellationToken.None);
    }

    /// <summary>Time to check (the watch's timer; tests send it to check at once).</summary>
    public sealed class Check : INoSerializationVerificationNeeded
    {
        public static readonly Check Instance = new();

        private Check()
        {
        }
    }

    private sealed record Listed(IReadOnlyList<RunnerRelease> Releases) : INoSerializationVerificationNeeded;

    private sealed record ListingFailed(string Reason) : INoSerializationVerificationNeeded;
}

/// <summary>Registry key of the node's <see cref="RunnerReleaseWatch"/>.</summary>
public sealed class RunnerReleaseWatchKey;

public static class RunnerReleaseWatchRegistration
{
    /// <summary>Starts the node's runner release watch, checking every <paramref name="interval"/>; none when it is zero.</summary>
    public static AkkaConfigurationBuilder AddRunnerReleaseWatch(this AkkaConfigurationBuilder builder, IGitHubActions gitHub, IVmPool pool, TimeSpan interval) =>
        interval <= TimeSpan.Zero
            ? builder
            : builder.WithActors((system, registry) =>
                registry.Register<RunnerReleaseWatchKey>(system.ActorOf(RunnerReleaseWatch.Props(gitHub, pool, interval), "runner-release-watch")));
}
