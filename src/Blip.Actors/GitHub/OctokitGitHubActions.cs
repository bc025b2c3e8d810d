using System.Net;
using Blip.Actors.Config;
using Blip.Actors.Hosting;
using Blip.Actors.Runners;
using Octokit;

namespace Blip.Actors.GitHub;

/// <summary><see cref="IGitHubActions"/> on Octokit, always with the PAT current at the time of the call.</summary>
public sealed class OctokitGitHubActions(ControllerSecrets secrets, BlipOptions options) : IGitHubActions
{
    private const int PageSize = 100;
    private const int MaxPages = 20; // 2,000 runs or jobs per status per poll

    private readonly Uri _baseUri = new(options.GitHubApiUrl.EndsWith('/') ? options.GitHubApiUrl : options.GitHubApiUrl + "/");
    private readonly object _gate = new();
    private (GitHubToken Token, GitHubClient Client)? _current;

    private GitHubClient Client()
    {
        var token = secrets.GitHubToken ?? throw new GitHubCallException("no PAT available", null);
        lock (_gate)
        {
            if (_current is { } c && c.Token.Equals(token))
            {
                return c.Client;
            }

            // A rotated PAT gets a new client (and so a clean connection state) on the very next call.
            var connection = new Connection(
                new ProductHeaderValue("blip-actors"),
                _baseUri,
                new Octokit.Internal.InMemoryCredentialStore(new Credentials(token.Value, AuthenticationType.Bearer)));
            var client = new GitHubClient(connection);
            _current = (token, client);
            return client;
        }
    }

    public async Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct)
    {
        var client = Client();
        var result = new List<QueuedJob>();
        var seenRuns = new HashSet<long>();
        foreach (var status in new[] { CheckRunStatusFilter.Queued, CheckRunStatusFilter.InProgress })
        {
            var runs = await Call("list workflow runs", () => client.Actions.Workflows.Runs.List(
                repo.Owner, repo.Name, new WorkflowRunsRequest { Status = status },
                new ApiOptions { PageSize = PageSize, PageCount = MaxPages, StartPage = 1 })).ConfigureAwait(false);
            foreach (var run in runs.WorkflowRuns)
            {
                ct.ThrowIfCancellationRequested();
                if (!seenRuns.Add(run.Id))
                {
                    continue;
                }

                var jobs = await Call("list jobs", () => client.Actions.Workflows.Jobs.List(
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
        var client = Client();
        var body = new Dictionary<string, object>
        {
            ["name"] = runnerName,
            ["runner_group_id"] = options.RunnerGroupId,
            ["labels"] = labels.ToArray(),
            ["work_folder"] = options.WorkFolder,
        };
        var uri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runners/generate-jitconfig", UriKind.Relative);
        var response = await Call("generate-jitconfig", () => client.Connection.Post<JitConfigResponse>(
            uri, body, "application/vnd.github+json", "application/json", cancellationToken: ct)).ConfigureAwait(false);
        var reply = response.Body ?? throw new GitHubCallException("generate-jitconfig", response.HttpResponse.StatusCode);
        if (string.IsNullOrEmpty(reply.EncodedJitConfig) || reply.Runner is null)
        {
            throw new GitHubCallException("generate-jitconfig (reply without runner or config)", response.HttpResponse.StatusCode);
        }

        return new JitRunner(reply.Runner.Id, reply.Runner.Name ?? runnerName, new JitConfig(reply.EncodedJitConfig));
    }

    public async Task<RunnerInfo?> GetRunnerAsync(RepoName repo, long runnerId, CancellationToken ct)
    {
        var client = Client();
        try
        {
            var uri = new Uri($"repos/{repo.Owner}/{repo.Name}/actions/runners/{runnerId}", UriKind.Relative);
            var response = await client.Connection.Get<Runner>(uri, null).ConfigureAwait(false);
            return ToInfo(response.Body);
        }
        catch (NotFoundException)
        {
            return null;
        }
        catch (ApiException e)
        {
            throw Translate("get runner", e);
        }
    }

    public async Task<DeleteRunnerOutcome> DeleteRunnerAsync(RepoName repo, long runnerId, CancellationToken ct)
    {
        var client = Client();
        try
        {
            await client.Actions.SelfHostedRunners.DeleteRepositoryRunner(repo.Owner, repo.Name, runnerId).ConfigureAwait(false);
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
        catch (ApiException e)
        {
            throw Translate("delete runner", e);
        }
    }

    public async Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct)
    {
        var client = Client();
        var response = await Call("list runners", () => client.Actions.SelfHostedRunners.ListAllRunnersForRepository(
            repo.Owner, repo.Name, new ApiOptions { PageSize = PageSize, PageCount = MaxPages, StartPage = 1 })).ConfigureAwait(false);
        return response.Runners.Select(ToInfo).ToList();
    }

    private static RunnerInfo ToInfo(Runner r) =>
        new(r.Id, r.Name ?? "", r.Status ?? "", r.Busy, r.Labels?.Select(l => l.Name).ToArray() ?? []);

    private static async Task<T> Call<T>(string operation, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            throw Translate(operation, e);
        }
        catch (HttpRequestException e)
        {
            throw new GitHubCallException(operation, null, null, e);
        }
        catch (TaskCanceledException e)
        {
            throw new GitHubCallException(operation + " (timeout)", null, null, e);
        }
    }

    private static GitHubCallException Translate(string operation, ApiException e)
    {
        TimeSpan? retryAfter = null;
        if (e.HttpResponse?.Headers is { } headers
            && headers.TryGetValue("Retry-After", out var value) && int.TryParse(value, out var seconds))
        {
            retryAfter = TimeSpan.FromSeconds(seconds);
        }

        var rateLimited = e is RateLimitExceededException or SecondaryRateLimitExceededException || retryAfter is not null
            || e.StatusCode == (HttpStatusCode)429;
        return new GitHubCallException(operation, e.StatusCode, retryAfter) { IsRateLimited = rateLimited };
    }

    /// <summary>The reply of generate-jitconfig (not modelled by Octokit).</summary>
    public sealed class JitConfigResponse
    {
        public string? EncodedJitConfig { get; set; }
        public Runner? Runner { get; set; }
    }
}
