namespace Blip.Sandbox.GitHub;

public sealed record GitHubEmulatorOptions
{
    /// <summary>Repos (owner/name) that exist from the start; queuing a job creates more.</summary>
    public IReadOnlyList<string> Repos { get; init; } = [];

    /// <summary>Default primary budget of a PAT per hour.</summary>
    public int RateLimitPerHour { get; init; } = 5000;

    /// <summary>Clock for timestamps and rate-limit windows. Waits (long polls, faults) use real time.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Where <c>workflow_job</c> events go; null sends none.</summary>
    public Uri? WebhookUrl { get; init; }

    /// <summary>HMAC-SHA256 key of <c>X-Hub-Signature-256</c>.</summary>
    public string? WebhookSecret { get; init; }

    /// <summary>Bearer token of the <c>/_sandbox/</c> admin API; null makes a random one.</summary>
    public string? AdminToken { get; init; }

    /// <summary>Port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Port of the HTTPS listener on 127.0.0.1; 0 picks a free one.</summary>
    public int HttpsPort { get; init; }

    /// <summary>How long an App installation token is valid (GitHub: one hour).</summary>
    public TimeSpan InstallationTokenLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A busy runner silent this long (process killed, VM deleted) has its job failed, as GitHub does after it
    /// loses communication with a runner. Also <c>PUT /_sandbox/settings</c> <c>{"lostRunnerSeconds": N}</c>.</summary>
    public TimeSpan LostRunnerTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Runners older than this are refused when they redeem their JIT config, with GitHub's words ("Runner version
    /// vX is deprecated and cannot receive messages"); null refuses none. Also <c>PUT /_sandbox/settings</c>
    /// <c>{"minimumRunnerVersion": "2.330.0"}</c>.</summary>
    public Version? MinimumRunnerVersion { get; init; }

    /// <summary>What <c>GET /repos/actions/runner/releases</c> lists (newest first, as GitHub does); null: one release, the
    /// sandbox VMs' runner (<see cref="Pool.VmPoolOptions.CurrentRunnerVersion"/>), published two weeks before the start.
    /// Also <see cref="GitHubEmulator.RunnerReleases"/>.</summary>
    public IReadOnlyList<SandboxRunnerRelease>? RunnerReleases { get; init; }

    /// <summary>How long <c>/_runner/acquire</c> holds a request waiting for a job.</summary>
    public TimeSpan RunnerLongPoll { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An idle runner silent this long (no acquire, no status: its process died or its VM went away) shows
    /// offline until it is heard from again, as on GitHub once its listener's long poll lapsed; null: two long polls
    /// (<see cref="RunnerLongPoll"/>).</summary>
    public TimeSpan? RunnerOfflineAfter { get; init; }
}
