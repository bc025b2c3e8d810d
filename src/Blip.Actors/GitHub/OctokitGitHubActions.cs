using System.Globalization;
using System.Net;
using Blip.Actors.Config;
using Blip.Actors.Hosting;
using Blip.Actors.Runners;
using Octokit;

namespace Blip.Actors.GitHub;

/// <summary>
/// <see cref="IGitHubActions"/> on Octokit, always with the PAT current at the time of the call. Per PAT: one
/// client, one ETag cache (GETs are conditional; a 304 is free) and one <see cref="RateLimitGovernor"/>.
/// A call the governor holds back fails at once with a rate-limited <see cref="GitHubCallException"/>
/// carrying how long to wait, without touching the network.
/// </summary>
public sealed class OctokitGitHubActions(ControllerSecrets secrets, BlipOptions options, TimeProvider? clock = null) : IGitHubActions
{
    private const int PageSize = 100;
    private const int MaxPages = 20; // 2,000 runs or jobs per status per poll

    private readonly Uri _baseUri = new(options.GitHubApiUrl.EndsWith('/') ? options.GitHubApiUrl : options.GitHubApiUrl + "/");
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly object _gate = new();
    private Credential? _current;

    /// <summary>The governor of the current PAT (for metrics and inspection); null before the first call.</summary>
    public RateLimitState? RateLimit => _current?.Governor.State;

    public TimeSpan Pace(TimeSpan interval) => _current?.Governor.Pace(interval) ?? interval;

    private Credential Current()
    {
        var token = secrets.GitHubToken ?? throw new GitHubCallException("no PAT available", null);
        lock (_gate)
        {
            if (_current is { } c && c.Token.Equals(token))
            {
                return c;
            }

            // A rotated PAT gets a new client, a clean cache and its own budget, from the very next call.
            var connection = new Connection(
                new ProductHeaderValue("blip-actors"),
                _baseUri,
                new Octokit.Internal.InMemoryCredentialStore(new Credentials(token.Value, AuthenticationType.Bearer)));
            connection.SetRequestTimeout(options.GitHubRequestTimeout);
            var client = new GitHubClient(connection);
            if (options.ConditionalRequests)
            {
                client.ResponseCache = new BoundedResponseCache();
            }

            _current = new Credential(token, client, new RateLimitGovernor(_clock));
            return _current;
        }
    }

    public async Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct)
    {
        var result = new List<QueuedJob>();
        var seenRuns = new HashSet<long>();
        var statuses = options.PollInProgressRuns
            ? new[] { CheckRunStatusFilter.Queued, CheckRunStatusFilter.InProgress }
            : [CheckRunStatusFilter.Queued];
        foreach (var status in statuses)
        {
            var runs = await Call("list workflow runs", GitHubPriority.Discovery, c => c.Actions.Workflows.Runs.List(
                repo.Owner, repo.Name, new WorkflowRunsRequest { Status = status },
                new ApiOptions { PageSize = PageSize, PageCount = MaxPages, StartPage = 1 })).ConfigureAwait(false);
            foreach (var run in runs.WorkflowRuns)
            {
                ct.ThrowIfCancellationRequested();
                if (!seenRuns.Add(run.Id))
                {
                    continue;
                }

                var jobs = await Call("list jobs", GitHubPriority.Discovery, c => c.Actions.Workflows.Jobs.List(
                    repo.Owner, repo.Name, run.Id, new WorkflowRunJobsRequest { Filter = WorkflowRunJobsFilter.Latest },
                    new ApiOptions { PageSize = PageSize, PageCount = MaxPages, StartPage = 1 })).ConfigureAwait(false);
                foreach (var job in jobs.Jobs)
                {
                    if (job.Status.StringValue == "queued")
                    {
                        result.Add(new QueuedJob(job.Id, job.RunId, repo, job.Labels?.ToArray() ?? [], job.CreatedAt, job.Name ?? ""));
                    }
                }
            }
        }

        return result;
    }

    public async Task<JitRunner> GenerateJitConfigAsync(RepoName repo, string runnerName, IReadOnlyList<string> labels, CancellationToken ct)
    {
        var body = new Dictionary<string, object>
        {
            ["name"] = runnerName,
            ["runner_group_id"] = options.RunnerGroupId,
            ["labels"] = labels.ToArray(),
            ["work_folder"] = options.WorkFolder,
        };
        var uri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runners/generate-jitconfig", UriKind.Relative);
        var response = await Call("generate-jitconfig", GitHubPriority.Critical, c => c.Connection.Post<JitConfigResponse>(
            uri, body, "application/vnd.github+json", "application/json", cancellationToken: ct), idempotent: false).ConfigureAwait(false);
        var reply = response.Body;
        if (reply is null || string.IsNullOrEmpty(reply.EncodedJitConfig) || reply.Runner is null)
        {
            throw new GitHubCallException("generate-jitconfig (reply without runner or config)", response.HttpResponse.StatusCode);
        }

        return new JitRunner(reply.Runner.Id, reply.Runner.Name ?? runnerName, new JitConfig(reply.EncodedJitConfig));
    }

    public async Task<RunnerInfo?> GetRunnerAsync(RepoName repo, long runnerId, CancellationToken ct)
    {
        var uri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runners/{runnerId}", UriKind.Relative);
        var runner = await Call("get runner", GitHubPriority.Discovery, async c =>
        {
            try
            {
                return (await c.Connection.Get<Runner>(uri, null).ConfigureAwait(false)).Body;
            }
            catch (NotFoundException)
            {
                return null;
            }
        }).ConfigureAwait(false);
        return runner is null ? null : ToInfo(runner);
    }

    public Task<DeleteRunnerOutcome> DeleteRunnerAsync(RepoName repo, long runnerId, CancellationToken ct) =>
        Call("delete runner", GitHubPriority.Critical, async c =>
        {
            try
            {
                await c.Actions.SelfHostedRunners.DeleteRepositoryRunner(repo.Owner, repo.Name, runnerId).ConfigureAwait(false);
                return DeleteRunnerOutcome.Deleted;
            }
            catch (NotFoundException)
            {
                return DeleteRunnerOutcome.NotFound;
            }
            catch (ApiException e) when (e.StatusCode == HttpStatusCode.UnprocessableEntity)
            {
                return DeleteRunnerOutcome.Busy;
            }
        });

    public async Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct)
    {
        var response = await Call("list runners", GitHubPriority.Critical, c => c.Actions.SelfHostedRunners.ListAllRunnersForRepository(
            repo.Owner, repo.Name, new ApiOptions { PageSize = PageSize, PageCount = MaxPages, StartPage = 1 })).ConfigureAwait(false);
        return response.Runners.Select(ToInfo).ToList();
    }

    private static RunnerInfo ToInfo(Runner r) =>
        new(r.Id, r.Name ?? "", r.Status ?? "", r.Busy, r.Labels?.Select(l => l.Name).ToArray() ?? []);

    /// <summary>
    /// <see cref="CallOnce{T}"/>, repeated for an idempotent call (GET, DELETE) that met a 5xx or a broken
    /// connection: two more tries after short, jittered pauses, so one flaky reply does not cost a whole poll.
    /// Never repeated: POSTs, 4xx, rate limits (the governor decides those).
    /// </summary>
    private async Task<T> Call<T>(string operation, GitHubPriority priority, Func<GitHubClient, Task<T>> call, bool idempotent = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CallOnce(operation, priority, call).ConfigureAwait(false);
            }
            catch (GitHubCallException e) when (idempotent && attempt < TransientAttempts && IsTransient(e))
            {
                var pause = TimeSpan.FromMilliseconds((250 << (2 * (attempt - 1))) * (0.75 + (Random.Shared.NextDouble() / 2)));
                await Task.Delay(pause, _clock).ConfigureAwait(false);
            }
        }
    }

    private const int TransientAttempts = 3;

    private static bool IsTransient(GitHubCallException e) =>
        !e.IsRateLimited && (e.Status is null ? e.InnerException is HttpRequestException or TaskCanceledException : (int)e.Status >= 500);

    private async Task<T> CallOnce<T>(string operation, GitHubPriority priority, Func<GitHubClient, Task<T>> call)
    {
        var credential = Current();
        var governor = credential.Governor;
        var wait = governor.WaitBefore(priority);
        if (wait > TimeSpan.Zero)
        {
            throw new GitHubCallException($"{operation} held back by the rate-limit governor for {wait.TotalSeconds:F0} s", null, wait) { IsRateLimited = true };
        }

        try
        {
            var result = await call(credential.Client).ConfigureAwait(false);
            var limit = credential.Client.GetLastApiInfo()?.RateLimit;
            governor.Observe(limit?.Limit, limit?.Remaining, limit?.Reset, success: true);
            return result;
        }
        catch (ApiException e)
        {
            var translated = Translate(operation, e);
            var remaining = Header(e, "x-ratelimit-remaining");
            var reset = Header(e, "x-ratelimit-reset") is { } epoch ? DateTimeOffset.FromUnixTimeSeconds(epoch) : (DateTimeOffset?)null;
            governor.Observe(Header(e, "x-ratelimit-limit"), remaining, reset, success: false);
            if (translated.IsRateLimited)
            {
                var paused = governor.OnLimited(translated.RetryAfter, remaining, reset);
                throw new GitHubCallException($"{operation} (rate limited: {governor.State.PauseReason})", translated.Status, paused, e) { IsRateLimited = true };
            }

            throw translated;
        }
        catch (HttpRequestException e)
        {
            throw new GitHubCallException($"{operation} failed: {e.Message}", null, null, e);
        }
        catch (TaskCanceledException e)
        {
            throw new GitHubCallException($"{operation} failed: timed out", null, null, e);
        }
    }

    private static int? Header(ApiException e, string name) =>
        e.HttpResponse?.Headers is { } headers
        && headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)) is { Value: { } value }
        && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;

    private static GitHubCallException Translate(string operation, ApiException e)
    {
        TimeSpan? retryAfter = Header(e, "retry-after") is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
        var rateLimited = e is RateLimitExceededException or SecondaryRateLimitExceededException
            || retryAfter is not null
            || e.StatusCode == (HttpStatusCode)429
            || (e.StatusCode == HttpStatusCode.Forbidden && Header(e, "x-ratelimit-remaining") == 0);
        return new GitHubCallException(operation, e.StatusCode, retryAfter) { IsRateLimited = rateLimited };
    }

    private sealed record Credential(GitHubToken Token, GitHubClient Client, RateLimitGovernor Governor);

    /// <summary>The reply of generate-jitconfig (not modelled by Octokit).</summary>
    public sealed class JitConfigResponse
    {
        public string? EncodedJitConfig { get; set; }
        public Runner? Runner { get; set; }
    }
}
