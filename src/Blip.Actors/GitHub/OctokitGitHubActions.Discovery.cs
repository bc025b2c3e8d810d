using System.Globalization;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Microsoft.Extensions.Logging;
using Octokit;

namespace Blip.Actors.GitHub;

/// <summary>Discovery: the queued jobs of a repo, from the runs of every polled status and their jobs, page by page.</summary>
public sealed partial class OctokitGitHubActions
{
    /// <summary>GitHub returns at most this many runs for a status-filtered listing, newest first.</summary>
    public const int MaxFilteredRuns = 1000;

    // Per repo: the poll count and what each run's last read found (see DiscoveryPlan).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<RepoName, DiscoveryMemory> _discovery = new();

    /// <summary>The queued jobs of the repo, paying only for news (<see cref="DiscoveryPlan"/>): the <c>queued</c> runs every
    /// poll, the other polled statuses every <see cref="GitHubOptions.PollInProgressEvery"/>-th, and a run's jobs only when
    /// they may hold a queued job we do not know of. A job read earlier whose run is not read again is not reported again;
    /// a run that holds queued jobs is read every poll (a 304 when nothing changed), so every queued job is reported on
    /// every poll.</summary>
    public async Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct)
    {
        var memory = _discovery.GetOrAdd(repo, _ => new DiscoveryMemory());
        var poll = memory.Polls;
        var every = options.PollInProgressEvery;
        var statuses = DiscoveryPlan.StatusesFor(poll, every, options.PollInProgressRuns);
        var everyStatus = !options.PollInProgressRuns || statuses.Count == DiscoveryPlan.AllStatuses.Count;
        var next = new Dictionary<long, RunRead>();
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

                if (next.ContainsKey(run.Id))
                {
                    continue;
                }

                var listed = new ListedRun(run.Id, run.RunAttempt, run.UpdatedAt, run.Status ?? status);
                var last = memory.Runs.GetValueOrDefault(run.Id);
                next[run.Id] = DiscoveryPlan.ReasonToRead(listed, last, poll, every) == ReadReason.None
                    ? DiscoveryPlan.Unread(listed, last!)
                    : await ReadRunAsync(repo, run.Id, poll, listed.Attempt, listed.UpdatedAt, listed.Status).ConfigureAwait(false);
            }
        }

        foreach (var (runId, last) in memory.Runs.Where(r => !next.ContainsKey(r.Key)))
        {
            ct.ThrowIfCancellationRequested();
            var kept = DiscoveryPlan.ReadUnlisted(last, statuses)
                ? await ReadRunAsync(repo, runId, poll, last.Attempt, last.UpdatedAt, last.Status).ConfigureAwait(false)
                : DiscoveryPlan.Unlisted(last, everyStatus);
            if (kept is not null && !(everyStatus && !kept.HoldsQueuedJobs))
            {
                next[runId] = kept;
            }
        }

        memory.Completed(next);
        var seenJobs = new HashSet<long>();
        return next.Values.SelectMany(r => r.Queued).Where(j => seenJobs.Add(j.JobId)).ToList();
    }

    /// <summary>Reads a run's jobs (conditionally: a 304 when nothing changed) and remembers what it found.</summary>
    private async Task<RunRead> ReadRunAsync(RepoName repo, long runId, long poll, int attempt, DateTimeOffset? updatedAt, string? status)
    {
        var jobsUri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runs/{runId}/jobs", UriKind.Relative);
        var jobs = await ListAsync("list jobs", repo, GitHubPriority.Discovery,
            (c, page) => Get<JobsPage>(c, jobsUri, page, ("filter", "latest")),
            r => r.Jobs, r => r.TotalCount).ConfigureAwait(false);
        var queued = jobs
            .Where(job => Read(repo, runId, job))
            .Select(job => new QueuedJob(job.Id, runId, repo, job.Labels!.ToArray(), job.CreatedAt, job.Name ?? ""))
            .ToList();
        return new RunRead(attempt, updatedAt, status, poll, jobs.Count, queued);
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
            var reply = await Call(operation, repo, priority, c => list(c, new ApiOptions { PageSize = PageSize, PageCount = 1, StartPage = page })).ConfigureAwait(false);
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

    /// <summary>The listings discovery reads, by the end of their path, and the types it reads them into: what the response
    /// cache keeps of them (<see cref="BoundedResponseCache"/>).</summary>
    public static readonly IReadOnlyDictionary<string, Type> ReplyShapes = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["/actions/runs"] = typeof(RunsPage),
        ["/jobs"] = typeof(JobsPage),
    };

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
        public int RunAttempt { get; set; }
        public DateTimeOffset? UpdatedAt { get; set; }
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
}
