using System.Globalization;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Inspection;

/// <summary>Counts calls through the GitHub adapter by operation and outcome (HTTP status, or <c>ok</c>).</summary>
/// <remarks>Octokit owns its HttpClient, so this counts adapter operations, not single HTTP requests (a listing may page).</remarks>
public sealed class CountingGitHubActions(IGitHubActions inner, BlipMetrics metrics) : IGitHubActions
{
    public Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct) =>
        Count("list-queued-jobs", () => inner.ListQueuedJobsAsync(repo, ct));

    public Task<JitRunner> GenerateJitConfigAsync(RepoName repo, string runnerName, IReadOnlyList<string> labels, CancellationToken ct) =>
        Count("generate-jitconfig", () => inner.GenerateJitConfigAsync(repo, runnerName, labels, ct));

    public Task<RunnerInfo?> GetRunnerAsync(RepoName repo, long runnerId, CancellationToken ct) =>
        Count("get-runner", () => inner.GetRunnerAsync(repo, runnerId, ct));

    public Task<DeleteRunnerOutcome> DeleteRunnerAsync(RepoName repo, long runnerId, CancellationToken ct) =>
        Count("delete-runner", () => inner.DeleteRunnerAsync(repo, runnerId, ct));

    public Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct) =>
        Count("list-runners", () => inner.ListRunnersAsync(repo, ct));

    public Task<IReadOnlyList<RunnerRelease>> ListRunnerReleasesAsync(CancellationToken ct) =>
        Count("list-runner-releases", () => inner.ListRunnerReleasesAsync(ct));

    public TimeSpan Pace(TimeSpan interval) => inner.Pace(interval);

    public GitHubRateLimit? RateLimit => inner.RateLimit;

    private async Task<T> Count<T>(string endpoint, Func<Task<T>> call)
    {
        try
        {
            var result = await call().ConfigureAwait(false);
            metrics.GitHubRequests.Inc(endpoint, "ok");
            return result;
        }
        catch (GitHubCallException e)
        {
            metrics.GitHubRequests.Inc(endpoint, e.Status is { } s ? ((int)s).ToString(CultureInfo.InvariantCulture) : "no_response");
            throw;
        }
        catch (Exception)
        {
            metrics.GitHubRequests.Inc(endpoint, "error");
            throw;
        }
    }
}

/// <summary>Counts runner starts over SSH (and the runner versions started) and their failures by reason.</summary>
public sealed class CountingRunnerShell(IRunnerShell inner, BlipMetrics metrics) : IRunnerShell
{
    public async Task<RunnerStart> StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct)
    {
        metrics.SshAttempts.Inc();
        try
        {
            var started = await inner.StartRunnerAsync(target, config, ct).ConfigureAwait(false);
            metrics.RunnerStarts.Inc(RunnerVersion.Label(started.Version));
            return started;
        }
        catch (RunnerShellException e)
        {
            metrics.SshFailures.Inc(ReasonOf(e.Failure));
            throw;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception)
        {
            metrics.SshFailures.Inc("other");
            throw;
        }
    }

    public static string ReasonOf(RunnerShellFailure failure) => failure switch
    {
        RunnerShellFailure.Unreachable => "unreachable",
        RunnerShellFailure.HostKeyMismatch => "host_key_mismatch",
        RunnerShellFailure.AuthenticationFailed => "authentication_failed",
        RunnerShellFailure.RunnerFailed => "runner_failed",
        RunnerShellFailure.RunnerDirMissing => "runner_dir_missing",
        RunnerShellFailure.RunScriptMissing => "run_sh_missing",
        RunnerShellFailure.AlreadyRunning => "already_running",
        RunnerShellFailure.RunnerOutdated => "runner_outdated",
        _ => failure.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// Counts Kubernetes API requests by verb, resource and status; a 409 on a VM update is a lost claim race
/// (<see cref="BlipMetrics.ClaimConflicts"/>: the controller's only conditional VM writes are claims and releases).
/// </summary>
public sealed class KubernetesRequestCounter(BlipMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var resource = ResourceOf(request.RequestUri);
        var watch = request.RequestUri?.Query.Contains("watch=true", StringComparison.Ordinal) == true;
        var verb = watch ? "watch" : request.Method.Method.ToUpperInvariant();
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.KubernetesRequests.Inc(verb, resource, "no_response");
            throw;
        }

        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        metrics.KubernetesRequests.Inc(verb, resource, status);
        if (response.StatusCode == System.Net.HttpStatusCode.Conflict && resource == "virtualmachines" && verb is "PUT" or "PATCH")
        {
            metrics.ClaimConflicts.Inc();
        }

        return response;
    }

    /// <summary>The resource a Kubernetes API path names: <c>/api/v1/namespaces/ns/secrets/x</c> → <c>secrets</c>.</summary>
    public static string ResourceOf(Uri? uri)
    {
        if (uri is null)
        {
            return "unknown";
        }

        var segments = uri.AbsolutePath.Trim('/').Split('/');
        // api/v1/... or apis/group/version/...
        var rest = segments.Length > 0 && segments[0] == "apis" ? segments.Skip(3).ToArray() : segments.Skip(2).ToArray();
        if (rest.Length >= 2 && rest[0] == "namespaces")
        {
            rest = rest.Skip(2).ToArray();
            if (rest.Length == 0)
            {
                return "namespaces";
            }
        }

        return rest.Length > 0 ? rest[0] : "unknown";
    }
}
