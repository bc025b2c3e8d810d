using System.Globalization;
using Blip.Actors.Shared;

namespace Blip.Actors.Vms;

/// <summary>The annotations and labels of DESIGN.md §2, and the pure builders for the claim.</summary>
public static class VmAnnotations
{
    public const string PoolLabel = "blip.io/pool";
    public const string SessionId = "blip.io/session-id";
    public const string ClaimedAt = "blip.io/claimed-at";
    public const string ClaimedBy = "blip.io/claimed-by";
    public const string MaxDuration = "blip.io/max-duration";
    public const string Ephemeral = "blip.io/ephemeral";
    public const string User = "blip.io/user";
    public const string RunnerRepo = "blip.io/runner-repo";
    public const string RunnerJobId = "blip.io/runner-job-id";
    public const string RunnerProvisioned = "blip.io/runner-provisioned";
    public const string Release = "blip.io/release";
    public const string HostKey = "blip.io/host-key";
    public const string ClientKey = "blip.io/client-key";

    public const string SessionPrefix = "actions-";

    public static string SessionFor(long jobId) => SessionPrefix + jobId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The job id of an <c>actions-&lt;jobId&gt;</c> session, or null for any other session.</summary>
    public static long? JobIdOfSession(string? sessionId) =>
        sessionId is not null && sessionId.StartsWith(SessionPrefix, StringComparison.Ordinal)
        && long.TryParse(sessionId.AsSpan(SessionPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;

    /// <summary>Everything one claim writes, in one update.</summary>
    public static IReadOnlyDictionary<string, string> ForClaim(long jobId, RepoName repo, string node, DateTimeOffset claimedAt, int maxDurationSeconds) =>
        new Dictionary<string, string>
        {
            [SessionId] = SessionFor(jobId),
            [ClaimedAt] = FormatTime(claimedAt),
            [ClaimedBy] = node,
            [MaxDuration] = maxDurationSeconds.ToString(CultureInfo.InvariantCulture),
            [Ephemeral] = "true",
            [User] = "actions:" + repo.FullName,
            [RunnerRepo] = repo.FullName,
            [RunnerJobId] = jobId.ToString(CultureInfo.InvariantCulture),
        };

    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// When a VM we adopt was claimed, for the hard cap: its <c>blip.io/claimed-at</c>, but never later than now
    /// (a clock ahead, or a hand-edited value, must not stretch the cap). A missing or unreadable value cannot prove
    /// the VM young, so the cap counts from <paramref name="notBefore"/> — when the job was sighted, before which no
    /// VM was claimed for it: the cap may come early, never late. <paramref name="problem"/> says what was wrong.
    /// </summary>
    public static DateTimeOffset ClaimTimeOf(string? claimedAt, DateTimeOffset notBefore, DateTimeOffset now, out string? problem)
    {
        switch (ParseTime(claimedAt))
        {
            case null:
                problem = claimedAt is null
                    ? $"it has no {ClaimedAt}"
                    : $"{ClaimedAt} '{Shorten(claimedAt)}' is not an RFC 3339 time";
                return notBefore < now ? notBefore : now;
            case { } t when t > now:
                problem = $"{ClaimedAt} '{claimedAt}' is in the future";
                return now;
            case { } t:
                problem = null;
                return t;
        }
    }

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "…";

    public static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
}
