using System.Globalization;
using System.Net;
using System.Runtime.Serialization;
using Blip.Actors.Config;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Octokit;
using Octokit.Internal;
using Blip.Actors.Shared;

namespace Blip.Actors.GitHub;

/// <summary>
/// <see cref="IGitHubActions"/> on Octokit, always with the PAT current at the time of the call. Per PAT: one
/// client, one ETag cache (GETs are conditional; a 304 is free) and one <see cref="RateLimitGovernor"/>.
/// A call the governor holds back fails at once with a rate-limited <see cref="GitHubCallException"/>
/// carrying how long to wait, without touching the network.
/// Replies are read defensively: a body over <see cref="MaxReplyBytes"/> or one Octokit cannot parse fails the call
/// with a <see cref="GitHubCallException"/> naming the operation; a listing keeps at most <see cref="MaxListed"/>
/// items; a listed item lacking what the controller needs is skipped with one warning (not one per poll).
/// </summary>
public sealed class OctokitGitHubActions(
    ControllerSecrets secrets, GitHubOptions options, TimeProvider? clock = null, ILogger<OctokitGitHubActions>? logger = null,
    Inspection.BlipMetrics? metrics = null) : IGitHubActions
{
    private const int PageSize = 100;
    private const int MaxPages = 20;

    /// <summary>Items kept per listing (runs of one status, jobs of one run, runners): 2,000.</summary>
    public const int MaxListed = PageSize * MaxPages;

    /// <summary>A page of 100 runs is about 1 MB on GitHub; a reply past this is refused unread.</summary>
    public const long MaxReplyBytes = 8 * 1024 * 1024;

    private const int ReportMemory = 10_000;

    private readonly Uri _baseUri = new(options.GitHubApiUrl.EndsWith('/') ? options.GitHubApiUrl : options.GitHubApiUrl + "/");
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly object _gate = new();
    private readonly ILogger _log = logger ?? (ILogger)NullLogger.Instance;
    private readonly ReportOnce<string> _reported = new(ReportMemory);
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
                new InMemoryCredentialStore(new Credentials(token.Value, AuthenticationType.Bearer)),
                new HttpClientAdapter(() => new ReplySizeLimit(MaxReplyBytes)
                {
                    InnerHandler = new HttpStatusCounter(CountReply) { InnerHandler = HttpMessageHandlerFactory.CreateDefault() },
                }),
                new SimpleJsonSerializer());
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

    private void CountReply(int status) =>
        metrics?.GitHubHttpResponses.Inc(status.ToString(CultureInfo.InvariantCulture));

    /// <summary>Run statuses whose runs may hold queued jobs, each listed on every poll (a 304 is free). <c>queued</c>;
    /// <c>in_progress</c> (jobs with <c>needs:</c>, later matrix legs, re-runs); <c>waiting</c> (one job awaits a deployment
    /// protection rule while others of the run are queued); <c>pending</c> (a concurrency limit holds the run, and
    /// job-level concurrency can hold one job of a running one). Not <c>requested</c>: such a run "was created but has
    /// not been queued" (GitHub docs, workflow run statuses), so none of its jobs is queued yet.</summary>
    /// <summary>GitHub returns at most this many runs for a status-filtered listing, newest first.</summary>
    public const int MaxFilteredRuns = 1000;

    public static readonly IReadOnlyList<string> PolledRunStatuses = ["queued", "in_progress", "waiting", "pending"];

    public async Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct)
    {
        var result = new List<QueuedJob>();
        var seenRuns = new HashSet<long>();
        var seenJobs = new HashSet<long>();
        var statuses = options.PollInProgressRuns ? PolledRunStatuses : ["queued"];
        var runsUri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runs", UriKind.Relative);
        foreach (var status in statuses)
        {
            // Read into our own shapes, not Octokit's WorkflowRun: Octokit parses actor.type, repository.visibility and
            // more into enums and throws on a value it does not know, which GitHub adds now and then.
            var runs = await ListAsync("list workflow runs", repo, GitHubPriority.Discovery,
                (c, page) => Get<RunsPage>(c, runsUri, page, ("status", status)),
                r => r.WorkflowRuns, r => r.TotalCount).ConfigureAwait(false);
            if (runs.Count >= MaxFilteredRuns)
            {
                metrics?.RunListingsCapped.Inc(status);
                if (_reported.First($"{repo} runs {status} capped"))
                {
                    _log.LogWarning("repo {Repo}: GitHub lists at most {Max} runs with status {Status} and this repo has that many: the oldest are invisible to polling; configure webhooks (Blip:WebhookUrl) so every queued job is still seen (reported once)",
                        repo, MaxFilteredRuns, status);
                }
            }

            foreach (var run in runs)
            {
                ct.ThrowIfCancellationRequested();
                if (run.Id <= 0)
                {
                    if (_reported.First($"{repo} run without id #{run.RunNumber}"))
                    {
                        _log.LogWarning("repo {Repo}: GitHub listed a workflow run without an id (run #{RunNumber} '{Name}'); its jobs are skipped until it has one",
                            repo, run.RunNumber, run.Name);
                    }

                    continue;
                }

                if (!seenRuns.Add(run.Id))
                {
                    continue;
                }

                var jobsUri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runs/{run.Id}/jobs", UriKind.Relative);
                var jobs = await ListAsync("list jobs", repo, GitHubPriority.Discovery,
                    (c, page) => Get<JobsPage>(c, jobsUri, page, ("filter", "latest")),
                    r => r.Jobs, r => r.TotalCount).ConfigureAwait(false);
                foreach (var job in jobs)
                {
                    if (Read(repo, run.Id, job) && seenJobs.Add(job.Id))
                    {
                        result.Add(new QueuedJob(job.Id, run.Id, repo, job.Labels!.ToArray(), job.CreatedAt, job.Name ?? ""));
                    }
                }
            }
        }

        return result;
    }

    private static async Task<T> Get<T>(GitHubClient client, Uri uri, ApiOptions page, params (string Key, string Value)[] query)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["per_page"] = (page.PageSize ?? PageSize).ToString(CultureInfo.InvariantCulture),
            ["page"] = (page.StartPage ?? 1).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in query)
        {
            parameters[key] = value;
        }

        return (await client.Connection.Get<T>(uri, parameters).ConfigureAwait(false)).Body;
    }

    /// <summary>True for a queued job that can be served; anything else GitHub sent that is not usable is reported once.</summary>
    private bool Read(RepoName repo, long runId, JobItem job)
    {
        var status = job.Status;
        switch (GitHubReplies.ReadJob(job.Id, status, job.Labels))
        {
            case JobReading.Queued:
                return true;
            case JobReading.MissingId when _reported.First($"{repo} run {runId} job without id '{job.Name}'"):
                _log.LogWarning("repo {Repo}: run {RunId} listed a job without an id (name '{Name}'); skipped until it has one", repo, runId, job.Name);
                break;
            case JobReading.MissingStatus when _reported.First($"{repo} job {job.Id} without status"):
                _log.LogWarning("job {JobId} ({Repo}): GitHub's reply has no status; skipped until it has one", job.Id, repo);
                break;
            case JobReading.MissingLabels when _reported.First($"{repo} job {job.Id} without labels"):
                _log.LogWarning("job {JobId} ({Repo}): GitHub's reply has no labels; skipped until it has them", job.Id, repo);
                break;
            case JobReading.UnknownStatus when _reported.First($"{repo} job status {status}"):
                _log.LogWarning("job {JobId} ({Repo}): status '{Status}' is unknown to this controller; not treated as queued (reported once per status)",
                    job.Id, repo, status);
                break;
        }

        return false;
    }

    /// <summary>A listing read page by page (not by Octokit's own paging, so the caps hold whatever the server sends):
    /// at most <see cref="MaxListed"/> items, and a page larger than asked for ends the listing.</summary>
    private async Task<List<T>> ListAsync<TReply, T>(
        string operation, RepoName repo, GitHubPriority priority, Func<GitHubClient, ApiOptions, Task<TReply>> list,
        Func<TReply, IReadOnlyList<T>?> items, Func<TReply, int> totalCount)
    {
        var all = new List<T>();
        for (var page = 1; ; page++)
        {
            var reply = await Call(operation, priority, c => list(c, new ApiOptions { PageSize = PageSize, PageCount = 1, StartPage = page })).ConfigureAwait(false);
            var onPage = items(reply) ?? [];
            var step = GitHubReplies.NextPage(PageSize, MaxListed, all.Count, onPage.Count, totalCount(reply));
            all.AddRange(onPage.Take(step.Take));
            if (step.Oversized)
            {
                if (_reported.First($"{repo} {operation} oversized"))
                {
                    _log.LogWarning("repo {Repo}: {Operation}: GitHub sent {Count} items on a page of {PageSize}; kept {Kept} and stopped paging (reported once)",
                        repo, operation, onPage.Count, PageSize, all.Count);
                }
            }
            else if (step.Capped && _reported.First($"{repo} {operation} capped"))
            {
                _log.LogWarning("repo {Repo}: {Operation}: more than {Max} items; kept the first {Max} (reported once)", repo, operation, MaxListed, MaxListed);
            }

            if (!step.More)
            {
                return all;
            }
        }
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
                return (await c.Connection.Get<RunnerItem>(uri, null).ConfigureAwait(false)).Body;
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
            catch (ApiException e) when (e.StatusCode == HttpStatusCode.UnprocessableEntity && SaysBusy(e))
            {
                return DeleteRunnerOutcome.Busy;
            }
        });

    /// <summary>A 422 on a runner DELETE means busy only when GitHub says so ("Runner … is still running a job"); any other
    /// 422 is a failure like any other, never taken for a runner at work.</summary>
    private static bool SaysBusy(ApiException e) =>
        e.ApiError?.Message is { } message
        && (message.Contains("running a job", StringComparison.OrdinalIgnoreCase) || message.Contains("busy", StringComparison.OrdinalIgnoreCase));

    public async Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct)
    {
        var uri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runners", UriKind.Relative);
        var runners = await ListAsync("list runners", repo, GitHubPriority.Critical,
            (c, page) => Get<RunnersPage>(c, uri, page),
            r => r.Runners, r => r.TotalCount).ConfigureAwait(false);
        var result = new List<RunnerInfo>(runners.Count);
        foreach (var runner in runners)
        {
            if (runner.Id > 0 && !string.IsNullOrEmpty(runner.Name))
            {
                result.Add(ToInfo(runner));
            }
            else if (_reported.First($"{repo} runner {runner.Id} without name"))
            {
                _log.LogWarning("repo {Repo}: GitHub listed runner {RunnerId} without {Missing}; ignored", repo, runner.Id, runner.Id > 0 ? "a name" : "an id");
            }
        }

        return result;
    }

    private static RunnerInfo ToInfo(RunnerItem r) =>
        new(r.Id, r.Name ?? "", r.Status ?? "", r.Busy, r.Labels?.Select(l => l.Name ?? "").ToArray() ?? []);

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
        catch (Exception e) when (e is SerializationException or FormatException or InvalidCastException or ArgumentException or ReplyTooLargeException)
        {
            // The call went through (and was charged), but its reply is unusable. Never quote the body: it may hold a JIT config.
            var reason = e switch
            {
                ReplyTooLargeException => e.Message,
                SerializationException => "it is not valid JSON",
                _ => $"it does not have the expected shape ({e.GetType().Name})",
            };
            throw new GitHubCallException($"{operation}: GitHub's reply could not be read: {reason}", null, null, e);
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
        var spammed = e.StatusCode == HttpStatusCode.UnprocessableEntity && GitHubReplies.SaysSpammed(e.ApiError?.Message);
        return new GitHubCallException(operation, e.StatusCode, retryAfter) { IsRateLimited = rateLimited, IsSpammed = spammed };
    }

    private sealed record Credential(GitHubToken Token, GitHubClient Client, RateLimitGovernor Governor);

    /// <summary>The reply of generate-jitconfig (not modelled by Octokit).</summary>
    public sealed class JitConfigResponse
    {
        public string? EncodedJitConfig { get; set; }
        public RunnerItem? Runner { get; set; }
    }

    // The parts of GitHub's replies the controller reads, as plain strings and numbers: a value GitHub adds to one of its
    // enums reaches the controller as data (Octokit's models throw ArgumentException on one). Octokit's serializer maps
    // snake_case names onto these properties.
    public sealed class RunsPage
    {
        public int TotalCount { get; set; }
        public IReadOnlyList<RunItem>? WorkflowRuns { get; set; }
    }

    public sealed class RunItem
    {
        public long Id { get; set; }
        public long RunNumber { get; set; }
        public string? Name { get; set; }
        public string? Status { get; set; }
    }

    public sealed class JobsPage
    {
        public int TotalCount { get; set; }
        public IReadOnlyList<JobItem>? Jobs { get; set; }
    }

    public sealed class JobItem
    {
        public long Id { get; set; }
        public long RunId { get; set; }
        public string? Name { get; set; }
        public string? Status { get; set; }
        public IReadOnlyList<string>? Labels { get; set; }
        public DateTimeOffset? CreatedAt { get; set; }
    }

    public sealed class RunnersPage
    {
        public int TotalCount { get; set; }
        public IReadOnlyList<RunnerItem>? Runners { get; set; }
    }

    public sealed class RunnerItem
    {
        public long Id { get; set; }
        public string? Name { get; set; }
        public string? Status { get; set; }
        public bool Busy { get; set; }
        public IReadOnlyList<RunnerLabelItem>? Labels { get; set; }
    }

    public sealed class RunnerLabelItem
    {
        public string? Name { get; set; }
    }
}
