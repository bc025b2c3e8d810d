using System.Globalization;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Microsoft.Extensions.Logging;
using Octokit;

namespace Blip.Actors.GitHub;

/// <summary>Discovery: the queued jobs of a repo, from the runs of every polled status and their jobs, page by page.</summary>
public sealed partial class OctokitGitHubActions
{
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
}
