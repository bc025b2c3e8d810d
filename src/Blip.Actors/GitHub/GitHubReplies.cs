using System.Collections.Frozen;

namespace Blip.Actors.GitHub;

/// <summary>What one listed job means to discovery.</summary>
public enum JobReading
{
    /// <summary>Queued, with an id and labels: wants a runner.</summary>
    Queued,

    /// <summary>A status GitHub documents, other than queued.</summary>
    NotQueued,

    MissingId,
    MissingStatus,

    /// <summary>A status this controller has never heard of (GitHub adds some now and then): never taken for queued.</summary>
    UnknownStatus,

    /// <summary>Queued, but the reply lacks its labels, so it cannot be matched.</summary>
    MissingLabels,
}

/// <summary>Where reading one page of a listing leaves the listing.</summary>
/// <param name="Take">How many items of the page to keep.</param>
/// <param name="More">Ask for the next page.</param>
/// <param name="Oversized">The page held more items than asked for (the server ignored per_page).</param>
/// <param name="Capped">Items were left unread because the listing reached its cap.</param>
public readonly record struct PageStep(int Take, bool More, bool Oversized, bool Capped);

/// <summary>How the controller reads GitHub's replies defensively: pure rules, kept apart from Octokit.</summary>
public static class GitHubReplies
{
    /// <summary>Job statuses GitHub documents. Only <c>queued</c> asks for a runner; <c>waiting</c> (environment
    /// approval), <c>requested</c> and <c>pending</c> (concurrency) do not, yet.</summary>
    public static readonly FrozenSet<string> KnownJobStatuses =
        FrozenSet.ToFrozenSet(["queued", "in_progress", "completed", "waiting", "requested", "pending"], StringComparer.Ordinal);

    public static JobReading ReadJob(long id, string? status, IReadOnlyList<string>? labels) =>
        id <= 0 ? JobReading.MissingId
        : string.IsNullOrEmpty(status) ? JobReading.MissingStatus
        : status == "queued" ? (labels is null ? JobReading.MissingLabels : JobReading.Queued)
        : KnownJobStatuses.Contains(status) ? JobReading.NotQueued
        : JobReading.UnknownStatus;

    /// <summary>Whether a 422's message says the endpoint has been spammed. GitHub answers generate-jitconfig's 422 both
    /// for "Validation failed" and when "the endpoint has been spammed" (its REST description): a validation error stays
    /// one however often it is retried, a spammed endpoint answers again after a while.</summary>
    public static bool SaysSpammed(string? message) =>
        message is not null
        && (message.Contains("spam", StringComparison.OrdinalIgnoreCase) || message.Contains("try again later", StringComparison.OrdinalIgnoreCase));

    /// <summary>After a page of <paramref name="onPage"/> items arrived with <paramref name="held"/> already kept: keep
    /// what fits under <paramref name="maxItems"/>, and page on only while pages come full, as asked, and the listing's
    /// <paramref name="totalCount"/> (0 when unknown) says there is more. A server that ignored the page size is not
    /// asked again: its next page would not be the next one.</summary>
    public static PageStep NextPage(int pageSize, int maxItems, int held, int onPage, int totalCount)
    {
        var room = Math.Max(0, maxItems - held);
        var take = Math.Min(onPage, room);
        var oversized = onPage > pageSize;
        var kept = held + take;
        var more = !oversized && onPage == pageSize && (totalCount <= 0 || kept < totalCount);
        var capped = take < onPage || (more && kept >= maxItems);
        return new PageStep(take, more && kept < maxItems, oversized, capped);
    }
}
