using System.Text.Json.Serialization;

namespace Blip.Sandbox.GitHub;

// The admin API's shapes (camelCase JSON under /_sandbox/). Shared by the emulator and
// GitHubSandboxClient so the two cannot drift apart.

/// <summary>Queues one job: <c>POST /_sandbox/jobs</c>. The repo is created when unknown.</summary>
/// <param name="Repo">owner/name.</param>
/// <param name="Labels">The job's runs-on labels.</param>
/// <param name="DurationSeconds">How long a (fake) runner works on it.</param>
/// <param name="RunInProgress">Put the job in a run that is already in_progress (a finished
/// first job precedes it, as with <c>needs:</c>).</param>
/// <param name="RunId">Add the job to this existing run instead of a new one.</param>
/// <param name="Name">The job's name; defaults to <c>job-N</c>.</param>
/// <param name="Waiting">The job sits behind an environment protection rule: status <c>waiting</c> (its run too) until
/// <c>POST /_sandbox/jobs/{id}/approve</c>; delivered as action <c>queued</c> with status <c>waiting</c>, then <c>waiting</c>.</param>
/// <param name="ConcurrencyGroup">The new run's workflow-level concurrency group (case-insensitive). While another run of
/// the group has not completed, this run is <c>pending</c> and so are its jobs (nothing delivered); it is queued (a
/// <c>queued</c> delivery per job) when that run completes. A newer pending run of the group cancels an older one.</param>
public sealed record QueueJobRequest(
    string Repo,
    IReadOnlyList<string> Labels,
    int DurationSeconds = 5,
    bool RunInProgress = false,
    long? RunId = null,
    string? Name = null,
    bool Waiting = false,
    string? ConcurrencyGroup = null);

public sealed record QueuedJob(long RunId, long JobId);

public sealed record SandboxJob(
    long JobId,
    long RunId,
    string Repo,
    string Name,
    string Status,
    string? Conclusion,
    IReadOnlyList<string> Labels,
    int DurationSeconds,
    long? RunnerId,
    string? RunnerName,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt);

public sealed record SandboxRunner(
    long Id,
    string Repo,
    string Name,
    IReadOnlyList<string> Labels,
    string Status,
    bool Busy,
    bool Ephemeral,
    long? JobId,
    DateTimeOffset RegisteredAt,
    DateTimeOffset? RedeemedAt,
    DateTimeOffset? RemovedAt);

/// <summary>Creates a PAT: <c>POST /_sandbox/tokens</c>. A <c>"*"</c> entry in
/// <paramref name="Repos"/> grants every repo, present and future.</summary>
/// <param name="Actions">"read" or "none".</param>
/// <param name="Administration">"write", "read" or "none".</param>
/// <param name="RateLimitPerHour">Primary budget of this token; null uses the emulator's default.</param>
public sealed record CreateTokenRequest(
    IReadOnlyList<string> Repos,
    string Actions = "read",
    string Administration = "write",
    int? RateLimitPerHour = null);

public sealed record CreatedToken(string Token);

/// <summary>Sets a token's primary budget: <c>PUT /_sandbox/tokens/{token}/budget</c>.</summary>
public sealed record SetBudgetRequest(int Remaining, int ResetSeconds = 3600);

public sealed record RequestCounts(int Total, int Counted, int NotModified, IReadOnlyDictionary<string, int> ByStatus);

/// <summary><c>Counted</c> is what GitHub would charge to the primary rate limit: authenticated,
/// non-304 REST calls that were not themselves refused for an exhausted budget.</summary>
public sealed record SandboxStats(
    int Total,
    int Counted,
    int NotModified,
    IReadOnlyDictionary<string, RequestCounts> ByEndpoint,
    IReadOnlyDictionary<string, RequestCounts> ByRepo);

/// <summary>Every secret the emulator issued or accepted, for leak scans: PATs, JIT configs, installation tokens, the App
/// JWTs it accepted and the App private keys it generated.</summary>
public sealed record SandboxSecrets(
    IReadOnlyList<string> Pats,
    IReadOnlyList<string> JitConfigs,
    IReadOnlyList<string>? InstallationTokens = null,
    IReadOnlyList<string>? Jwts = null,
    IReadOnlyList<string>? AppPrivateKeys = null);

/// <summary>A GitHub App installed on <paramref name="Repos"/> (<c>*</c>: all), as <c>GitHubEmulator.CreateApp</c> makes it.</summary>
public sealed record CreateAppRequest(
    IReadOnlyList<string> Repos,
    string Actions = "read",
    string Administration = "write",
    int? RateLimitPerHour = null);

/// <summary>The App, its one installation and its first private key (PEM, as GitHub's "Generate a private key" downloads it).</summary>
public sealed record CreatedApp(long AppId, string ClientId, long InstallationId, string KeyId, string PrivateKeyPem);

public sealed record AppKey(string KeyId, string PrivateKeyPem);

/// <summary>What an App did: installation tokens issued (and when the newest expires), JWTs accepted per key id.</summary>
public sealed record AppActivity(int TokensIssued, IReadOnlyDictionary<string, int> JwtsByKey, DateTimeOffset? NewestTokenExpiresAt = null);

/// <summary>The whole fault set, replaced at once: <c>PUT /_sandbox/faults</c>.</summary>
/// <param name="ExhaustedTokens">Tokens whose primary budget is spent now (applied once, when the faults are set):
/// their calls get 403 "API rate limit exceeded" with remaining 0 until the window resets.</param>
public sealed record SandboxFaults(
    IReadOnlyList<EndpointFault>? Endpoints = null,
    SecondaryLimitFault? SecondaryLimit = null,
    IReadOnlyList<ExhaustedToken>? ExhaustedTokens = null)
{
    public static SandboxFaults None { get; } = new();
}

/// <summary>A fault on one endpoint, named as in the stats (<c>"POST /repos/{o}/{r}/actions/runners/generate-jitconfig"</c>),
/// or <c>"*"</c> for every REST endpoint.</summary>
/// <param name="ErrorRate">Chance (0..1) that a request is faulted.</param>
/// <param name="FailCount">When set, the next N matching requests are faulted (ErrorRate is ignored).</param>
/// <param name="Status">Status of a faulted reply (500, 502, 503, 504, 422…); 0 with TimeoutSeconds answers 504.</param>
/// <param name="LatencyMs">Added to every matching request, faulted or not.</param>
/// <param name="TimeoutSeconds">A faulted request is held this long before its error reply.</param>
/// <param name="RegisterThenFail">A faulted request is carried out first (for generate-jitconfig: the
/// runner IS registered) and then answered with the error.</param>
/// <param name="Corrupt">When not <see cref="ReplyCorruption.None"/>, a faulted request is carried out and answered
/// with its usual success status, but with this corruption of its body; <paramref name="Status"/>,
/// <paramref name="TimeoutSeconds"/> and <paramref name="RegisterThenFail"/> do not apply. Error replies
/// (401, 404, rate limits…) are left as they are.</param>
/// <param name="Message">The <c>message</c> of the faulted reply; null gives the status's usual one ("Validation Failed" for
/// 422, "Service Unavailable" for 503…). <see cref="SpammedMessage"/> with 422 is GitHub's "endpoint has been spammed".</param>
public sealed record EndpointFault(
    string Endpoint,
    double ErrorRate = 1.0,
    int? FailCount = null,
    int Status = 503,
    int LatencyMs = 0,
    int TimeoutSeconds = 0,
    bool RegisterThenFail = false,
    ReplyCorruption Corrupt = ReplyCorruption.None,
    string? Message = null)
{
    /// <summary>A <see cref="Message"/> for a 422 on generate-jitconfig that is not a validation error: GitHub documents
    /// that endpoint's 422 as "Validation failed, or the endpoint has been spammed." (its REST description) without
    /// publishing the second body; a client tells them apart by the message, and should back off on this one.</summary>
    public const string SpammedMessage = "The endpoint has been spammed. Please wait a while before trying again.";
}

/// <summary>How a faulted success reply is spoiled (<see cref="EndpointFault.Corrupt"/>). Written as its name in the
/// admin API's JSON (<c>"corrupt": "UnknownEnums"</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReplyCorruption>))]
public enum ReplyCorruption
{
    /// <summary>The reply is not corrupted (the fault answers with its error status).</summary>
    None,

    /// <summary>The body is cut off halfway, so it is not JSON, still with 200 and <c>application/json</c>.</summary>
    InvalidJson,

    /// <summary>Items lose the fields a client leans on: a run its <c>id</c>; the jobs of a reply, in turn, their
    /// <c>id</c>, <c>labels</c>, <c>status</c> (the first job loses its id, the second its labels, the third its
    /// status, the fourth its id again…); a runner its <c>name</c>; a generate-jitconfig reply its
    /// <c>encoded_jit_config</c>.</summary>
    MissingFields,

    /// <summary>Enum strings the client has never seen, as GitHub adds new ones: a run's or job's <c>status</c>
    /// becomes <c>waiting_for_moon</c> and its <c>conclusion</c> <c>eclipsed</c>; a run's <c>actor.type</c>,
    /// <c>triggering_actor.type</c> and <c>repository.owner.type</c> become <c>Wizard</c> and its
    /// <c>repository.visibility</c> <c>secret</c> (values Octokit parses into enums); a runner's <c>status</c>
    /// becomes <c>hibernating</c>.</summary>
    UnknownEnums,

    /// <summary>A listing ignores <c>per_page</c> and <c>page</c>: one page holds every matching item, repeated
    /// until it holds <see cref="ReplyCorruptionSizes.HugePageItems"/> (several MB), with no <c>Link</c> header. An empty listing stays
    /// empty; a single-object reply is unchanged.</summary>
    HugePage,
}

/// <summary>Sizes of the <see cref="ReplyCorruption"/> kinds.</summary>
public static class ReplyCorruptionSizes
{
    /// <summary>Items in a <see cref="ReplyCorruption.HugePage"/> page (the API allows 100).</summary>
    public const int HugePageItems = 5_000;
}

/// <summary>A token whose primary budget is spent, for <paramref name="ResetSeconds"/> more seconds.</summary>
public sealed record ExhaustedToken(string Token, int ResetSeconds = 3600);

/// <summary>A secondary rate limit: every authenticated REST call (of <paramref name="Token"/>, or of every
/// token when null) is refused with <paramref name="Status"/> (403 or 429) and <c>retry-after</c>
/// until <paramref name="RetryAfterSeconds"/> have passed since the fault was set.</summary>
public sealed record SecondaryLimitFault(int Status = 403, int RetryAfterSeconds = 60, string? Token = null);

/// <summary>One webhook delivery the emulator made: <c>GET /_sandbox/deliveries</c>.</summary>
/// <param name="Guid">Its <c>X-GitHub-Delivery</c>; a redelivery keeps it.</param>
/// <param name="Status">The receiver's answer to the last attempt; null before one, 0 when the connection failed.</param>
/// <param name="Sequence">Order of the last attempt (or of the queuing, before one).</param>
public sealed record SandboxDelivery(string Guid, string Event, bool Redelivery, int? Status, long Sequence);

/// <summary>Sends an event of another kind: <c>POST /_sandbox/deliveries</c> (<c>ping</c>, <c>push</c>, …), for
/// <paramref name="Repo"/> when given.</summary>
public sealed record SendEventRequest(string Event, string? Repo = null);

/// <summary>A release of actions/runner the emulator lists: <c>v</c> + <paramref name="Version"/>.</summary>
public sealed record SandboxRunnerRelease(string Version, DateTimeOffset PublishedAt, bool Prerelease = false);

/// <summary>Emulator settings: <c>PUT /_sandbox/settings</c>. <paramref name="LostRunnerSeconds"/>: a busy runner silent
/// this long has its job failed (GitHub: "lost communication with the server"). <paramref name="MinimumRunnerVersion"/>:
/// runners older than this are refused as GitHub refuses deprecated ones ("" lifts it).</summary>
public sealed record SandboxSettings(int? LostRunnerSeconds = null, string? MinimumRunnerVersion = null);
