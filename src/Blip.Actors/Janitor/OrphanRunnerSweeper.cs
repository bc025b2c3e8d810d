using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Janitor;

/// <summary>
/// Deletes runner registrations of ours that nothing will ever use: named <c>blip-&lt;jobId&gt;-…</c>, offline, not busy,
/// whose job actor is done, never heard of the job, or has moved on to another runner — and still so after
/// <c>grace</c> (a registration is offline for a moment between generate-jitconfig and the runner starting). A busy
/// runner is never touched (GitHub would refuse anyway). Each sweep lists the runners of every configured repo with a
/// conditional GET: with nothing changed GitHub answers 304, which is free. A cluster singleton.
/// </summary>
public sealed class OrphanRunnerSweeper : ReceiveActor, IWithTimers
{
    private const string SweepTimer = "sweep";
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    private readonly IActorRef _config;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeSpan _interval;
    private ImmutableArray<RepoName> _repos = [];
    private ImmutableDictionary<long, DateTimeOffset> _suspects = ImmutableDictionary<long, DateTimeOffset>.Empty;
    private bool _sweeping;

    public OrphanRunnerSweeper(IActorRef config, IGitHubActions gitHub, IActorRef jobs, TimeSpan interval, TimeSpan grace, Action? deleted)
    {
        _config = config;
        _interval = interval;
        Receive<ConfigProtocol.SettingsChanged>(s => _repos = s.CanPoll ? [.. s.Config!.Repos] : []);
        Receive<Sweep>(_ =>
        {
            if (_sweeping || _repos.IsEmpty)
            {
                return;
            }

            _sweeping = true;
            SweepAsync(_repos, _suspects, gitHub, jobs, grace, deleted, _log).PipeTo(Self, success: r => r, failure: e => new Swept(_suspects, e.Message));
        });
        Receive<Swept>(m =>
        {
            _sweeping = false;
            _suspects = m.Suspects;
            if (m.Error is not null)
            {
                _log.Warning("runner sweep failed ({0}); next in {1:F0} s", m.Error, _interval.TotalSeconds);
            }
        });
        ReceiveAny(Unhandled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="deleted">Called once per registration deleted (the metric).</param>
    public static Props Props(IActorRef config, IGitHubActions gitHub, IActorRef jobs, TimeSpan interval, TimeSpan grace, Action? deleted = null) =>
        Akka.Actor.Props.Create(() => new OrphanRunnerSweeper(config, gitHub, jobs, interval, grace, deleted));

    protected override void PreStart()
    {
        _config.Tell(new ConfigProtocol.Subscribe(Self));
        Timers.StartPeriodicTimer(SweepTimer, Sweep.Instance, _interval);
    }

    protected override void PostStop() => _config.Tell(new ConfigProtocol.Unsubscribe(Self));

    /// <summary>True for a registration of ours that its job will never use (before the grace period).</summary>
    public static bool IsOrphan(RunnerInfo runner, JobQueries.Status? job) =>
        RunnerName.TryParse(runner.Name) is not null
        && !runner.Busy
        && runner.Status == "offline"
        && job is not null
        && (job.Phase is JobPhase.Done or JobPhase.New || (job.RunnerId is { } mine && mine != runner.Id));

    /// <summary>The job a runner of ours was made for, from its name <c>blip-&lt;jobId&gt;-…</c>.</summary>
    public static long? JobOf(string runnerName) => RunnerName.JobOf(runnerName);

    private static async Task<Swept> SweepAsync(
        ImmutableArray<RepoName> repos, ImmutableDictionary<long, DateTimeOffset> suspects, IGitHubActions gitHub, IActorRef jobs,
        TimeSpan grace, Action? deleted, ILoggingAdapter log)
    {
        var now = DateTimeOffset.UtcNow;
        var next = ImmutableDictionary.CreateBuilder<long, DateTimeOffset>();
        string? error = null;
        foreach (var repo in repos)
        {
            IReadOnlyList<RunnerInfo> runners;
            try
            {
                runners = await gitHub.ListRunnersAsync(repo, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                error ??= $"repo {repo}: {e.Message}";
                // Keep what was suspected in this repo: one failed listing must not restart its grace.
                foreach (var kept in suspects)
                {
                    next[kept.Key] = kept.Value;
                }

                continue;
            }

            foreach (var runner in runners)
            {
                if (JobOf(runner.Name) is not { } jobId || runner.Busy || runner.Status != "offline")
                {
                    continue;
                }

                JobQueries.Status? job;
                try
                {
                    job = await jobs.Ask<JobQueries.Status>(new JobQueries.GetStatus(new JobId(jobId)), AskTimeout).ConfigureAwait(false);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
                {
                    job = null;
                }

                if (!IsOrphan(runner, job))
                {
                    continue;
                }

                var since = suspects.GetValueOrDefault(runner.Id, now);
                if (now - since < grace)
                {
                    next[runner.Id] = since;
                    continue;
                }

                try
                {
                    var outcome = await gitHub.DeleteRunnerAsync(repo, runner.Id, CancellationToken.None).ConfigureAwait(false);
                    if (outcome == DeleteRunnerOutcome.Deleted)
                    {
                        deleted?.Invoke();
                        log.Info("runner {0} ({1}): deleted an orphaned registration (offline, not busy, job {2} {3})",
                            runner.Name, repo, jobId, job!.Phase == JobPhase.Done ? "done" : job.Phase == JobPhase.New ? "unknown" : "on another runner");
                    }
                }
                catch (Exception e)
                {
                    error ??= $"runner {runner.Name} ({repo}): {e.Message}";
                    next[runner.Id] = since;
                }
            }
        }

        return new Swept(next.ToImmutable(), error);
    }

    private sealed class Sweep : INoSerializationVerificationNeeded
    {
        public static readonly Sweep Instance = new();
    }

    private sealed record Swept(ImmutableDictionary<long, DateTimeOffset> Suspects, string? Error) : INoSerializationVerificationNeeded;
}
