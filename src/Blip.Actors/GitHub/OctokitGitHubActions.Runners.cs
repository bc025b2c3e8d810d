using System.Net;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Microsoft.Extensions.Logging;
using Octokit;

namespace Blip.Actors.GitHub;

/// <summary>Runner registrations: generate-jitconfig, get, delete and list.</summary>
public sealed partial class OctokitGitHubActions
{
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
        var response = await Call("generate-jitconfig", repo, GitHubPriority.Critical, c => c.Connection.Post<JitConfigResponse>(
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
        var runner = await Call("get runner", repo, GitHubPriority.Discovery, async c =>
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
        Call("delete runner", repo, GitHubPriority.Critical, async c =>
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

    /// <summary>The reply of generate-jitconfig (not modelled by Octokit).</summary>
    public sealed class JitConfigResponse
    {
        public string? EncodedJitConfig { get; set; }
        public RunnerItem? Runner { get; set; }
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
