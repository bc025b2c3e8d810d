namespace Blip.Actors.GitHub;

/// <summary>The settings the GitHub adapter reads; bound and validated as part of <c>Hosting.BlipOptions</c> (same names).</summary>
public sealed class GitHubOptions
{
    /// <summary>GitHub REST API root; GitHub Enterprise Server: <c>https://HOST/api/v3/</c>. TLS is always verified; plain
    /// http only to a loopback host (the sandbox).</summary>
    public string GitHubApiUrl { get; init; } = "https://api.github.com/";

    /// <summary>Send If-None-Match with every GET (a 304 is free). Off only to measure what it saves.</summary>
    public bool ConditionalRequests { get; init; } = true;

    /// <summary>Also look for queued jobs inside in_progress runs (needs:, matrix legs, re-runs). Off only to mimic upstream.</summary>
    public bool PollInProgressRuns { get; init; } = true;

    /// <summary>Every poll lists the queued runs; every this-many-th also lists the in_progress, waiting and pending runs,
    /// where a job queued later inside a running run (<c>needs:</c>, later matrix legs) shows. See DiscoveryPlan.</summary>
    public int PollInProgressEvery { get; init; } = DefaultPollInProgressEvery;

    public const int DefaultPollInProgressEvery = 15;

    public int RunnerGroupId { get; init; } = 1;
    public string WorkFolder { get; init; } = "_work";

    /// <summary>How long one GitHub API call may take before it is abandoned as failed (idempotent calls are then
    /// repeated, see OctokitGitHubActions). GitHub itself gives up on a request after 10 s.</summary>
    public TimeSpan GitHubRequestTimeout { get; init; } = TimeSpan.FromSeconds(20);
}
