using System.Net;
using Blip.Actors.Shared;

namespace Blip.Actors.Runners;

/// <summary>The GitHub Actions calls the controller makes. Implemented on Octokit.</summary>
public interface IGitHubActions
{
    /// <summary>Every queued job of the repo: in queued AND in_progress runs, all pages.</summary>
    Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct);

    /// <summary>Registers an ephemeral runner and returns its JIT config. Throws <see cref="GitHubCallException"/>.</summary>
    Task<JitRunner> GenerateJitConfigAsync(RepoName repo, string runnerName, IReadOnlyList<string> labels, CancellationToken ct);

    /// <summary>The runner, or null when it is not registered (any more).</summary>
    Task<RunnerInfo?> GetRunnerAsync(RepoName repo, long runnerId, CancellationToken ct);

    Task<DeleteRunnerOutcome> DeleteRunnerAsync(RepoName repo, long runnerId, CancellationToken ct);

    Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct);

    /// <summary>The newest releases of <c>actions/runner</c> (public data, newest first) that have a tag and a publication
    /// date, prereleases included: <see cref="RunnerReleases.Assess"/> ignores what does not count.</summary>
    Task<IReadOnlyList<RunnerRelease>> ListRunnerReleasesAsync(CancellationToken ct);

    /// <summary>A poll interval stretched as the current PAT's budget runs low.</summary>
    TimeSpan Pace(TimeSpan interval);

    /// <summary>The current PAT's rate-limit state as last seen; null before the first call.</summary>
    GitHubRateLimit? RateLimit { get; }
}

/// <summary>The current PAT's rate limit as the adapter last saw it, and any pause it imposes (for metrics and blipctl).</summary>
public sealed record GitHubRateLimit(int? Limit, int? Remaining, DateTimeOffset? ResetAt, DateTimeOffset? PausedUntil, string? PauseReason);

public sealed record QueuedJob(long JobId, long RunId, RepoName Repo, IReadOnlyList<string> Labels, DateTimeOffset? CreatedAt, string Name);

public sealed record RunnerInfo(long Id, string Name, string Status, bool Busy, IReadOnlyList<string> Labels);

public enum DeleteRunnerOutcome
{
    Deleted,
    NotFound,

    /// <summary>422: the runner is running a job; GitHub refuses to delete it.</summary>
    Busy,
}

public sealed record JitRunner(long RunnerId, string RunnerName, JitConfig Config);

/// <summary>A sealed, single-use JIT runner config. Deliberately prints as a placeholder so it cannot reach a log.</summary>
public sealed class JitConfig(string value)
{
    public string Value { get; } = value;

    public override string ToString() => "[jit config]";
}

/// <summary>A GitHub call that failed with an HTTP status; the message never carries the reply body.</summary>
public sealed class GitHubCallException(string operation, HttpStatusCode? status, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(status is { } s ? $"{operation} failed with HTTP {(int)s}" : operation, inner)
{
    public HttpStatusCode? Status { get; } = status;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>401/403/404/422 on generate-jitconfig cannot be fixed by retrying (DESIGN.md §5); 409 is handled by a new name.
    /// A 422 saying the endpoint has been spammed (<see cref="IsSpammed"/>) is not a validation error: it passes.</summary>
    public bool IsPermanent => Status is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound
        || (Status == HttpStatusCode.UnprocessableEntity && !IsSpammed)
        || (Status == HttpStatusCode.Forbidden && RetryAfter is null && !IsRateLimited);

    public bool IsRateLimited { get; init; }

    /// <summary>A 422 whose message says the endpoint has been spammed: refused for now, nothing was done; back off and retry.</summary>
    public bool IsSpammed { get; init; }
}
