using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Polling;

/// <summary>
/// Polls one repository for queued jobs and tells the job shard region about each matching one, every poll
/// (sightings repeat; the job actor dedups), and about each one it saw last time and no longer sees
/// (<see cref="JobCommands.LeftQueue"/>). A non-matching job is logged once, not on every poll.
/// Polls never overlap: the next is scheduled when the previous one ends. Told to stop, it stops once no call of its own
/// is in flight, so "polling stopped" means nothing of this poller can still reach GitHub.
/// </summary>
public sealed class RepoPoller : ReceiveActor, IWithTimers
{
    private const string PollTimer = "poll";
    private const int MismatchMemory = 10_000;

    // A failing GitHub is retried at most this far apart (rate limits wait as long as the governor says).
    private static readonly TimeSpan MaxErrorBackoff = TimeSpan.FromSeconds(30);

    private readonly RepoName _repo;
    private readonly IGitHubActions _gitHub;
    private readonly IActorRef _jobs;
    private TimeSpan _interval;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ReportOnce<long> _mismatchLogged = new(MismatchMemory);
    private ImmutableArray<string> _labels;
    private PoolRoutes _routes;
    private string? _lastError;
    private HashSet<long> _queued = [];
    private readonly Backoff _errorBackoff;
    private bool _polling;
    private bool _stopping;

    public RepoPoller(RepoName repo, ImmutableArray<string> labels, IGitHubActions gitHub, IActorRef jobs, TimeSpan interval, Func<TimeSpan, TimeSpan> backstop, PoolRoutes? routes)
    {
        _repo = repo;
        _labels = labels;
        _routes = routes ?? PoolRoutes.None;
        _gitHub = gitHub;
        _jobs = jobs;
        _interval = interval;
        _errorBackoff = new Backoff(interval, MaxErrorBackoff);

        Receive<PollerProtocol.LabelsChanged>(m =>
        {
            _labels = m.Labels;
            _routes = m.Routes ?? PoolRoutes.None;
            _mismatchLogged.Forget();
        });
        Receive<PollerProtocol.IntervalChanged>(m => _interval = m.Interval);
        Receive<PollerProtocol.StopPolling>(_ =>
        {
            _stopping = true;
            Timers.CancelAll();
            if (!_polling)
            {
                Context.Stop(Self);
            }
        });
        Receive<Poll>(_ => _stopping, _ => { });
        Receive<Polled>(_ => _stopping, _ => Context.Stop(Self));
        Receive<PollFailed>(_ => _stopping, _ => Context.Stop(Self));
        Receive<Poll>(_ =>
        {
            _polling = true;
            var gitHub = _gitHub;
            var repo = _repo;
            var sentAt = DateTimeOffset.UtcNow;
            gitHub.ListQueuedJobsAsync(repo, CancellationToken.None)
                .PipeTo(Self, success: jobs => new Polled(jobs, sentAt), failure: e => new PollFailed(e));
        });
        Receive<Polled>(m =>
        {
            _polling = false;
            if (_lastError is not null)
            {
                _log.Info("repo {0}: polling works again", _repo);
                _lastError = null;
            }

            var queued = new HashSet<long>();
            foreach (var job in m.Jobs)
            {
                var route = PoolRoute.Decide(_labels, _routes, [.. job.Labels]);
                if (route.Matches)
                {
                    queued.Add(job.JobId);
                    _jobs.Tell(new JobCommands.Sighted(new JobId(job.JobId), _repo, [.. job.Labels], job.RunId, job.CreatedAt, m.SentAt, route.Pool));
                }
                else if (_mismatchLogged.First(job.JobId))
                {
                    _log.Info("job {0} ({1}): job labels do not match runner labels: {2}", job.JobId, _repo, route.Mismatch);
                }
            }

            // Free news for the job actors: a job seen queued last time and not now was taken (or cancelled).
            foreach (var gone in _queued.Where(id => !queued.Contains(id)))
            {
                _jobs.Tell(new JobCommands.LeftQueue(new JobId(gone), m.SentAt));
            }

            _queued = queued;
            _errorBackoff.Reset(_interval);
            Timers.StartSingleTimer(PollTimer, Poll.Instance, _gitHub.Pace(backstop(_interval)));
        });
        Receive<PollFailed>(m =>
        {
            _polling = false;
            var error = m.Cause.Message;
            var backoff = _errorBackoff.Next();
            var wait = m.Cause is GitHubCallException { RetryAfter: { } after } ? after : backoff;
            if (error != _lastError)
            {
                _log.Warning("repo {0}: polling failed ({1}); next poll in {2:F0} s", _repo, error, wait.TotalSeconds);
                _lastError = error;
            }

            Timers.StartSingleTimer(PollTimer, Poll.Instance, wait);
        });
        ReceiveAny(Unhandled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="backstop">Maps the interval to the one to use now (longer while webhooks deliver).</param>
    /// <param name="routes">The routes of key <c>pools</c>; none routes every matching job to the default pool.</param>
    public static Props Props(RepoName repo, ImmutableArray<string> labels, IGitHubActions gitHub, IActorRef jobs, TimeSpan interval, Func<TimeSpan, TimeSpan> backstop, PoolRoutes? routes = null) =>
        Akka.Actor.Props.Create(() => new RepoPoller(repo, labels, gitHub, jobs, interval, backstop, routes));

    protected override void PreStart()
    {
        _log.Info("repo {0}: polling every {1}", _repo, _interval);
        Self.Tell(Poll.Instance);
    }

    protected override void PostStop() => _log.Info("repo {0}: polling stopped", _repo);

    private sealed class Poll : INoSerializationVerificationNeeded
    {
        public static readonly Poll Instance = new();
    }

    private sealed record Polled(IReadOnlyList<QueuedJob> Jobs, DateTimeOffset SentAt) : INoSerializationVerificationNeeded;

    private sealed record PollFailed(Exception Cause) : INoSerializationVerificationNeeded;
}

public static class PollerProtocol
{
    public sealed record LabelsChanged(ImmutableArray<string> Labels, PoolRoutes? Routes = null);

    public sealed record IntervalChanged(TimeSpan Interval);

    /// <summary>Stop polling: at once between polls, else as soon as the call in flight has answered.</summary>
    public sealed class StopPolling
    {
        public static readonly StopPolling Instance = new();

        private StopPolling()
        {
        }
    }
}
