using Blip.Actors.Jobs;

namespace Blip.Actors.Inspection;

/// <summary>Job state and history as the management API shows them. Pure.</summary>
public static class JobViews
{
    public static JobSummaryView Summary(JobState s) =>
        new(s.JobId, s.Repo?.FullName, s.Phase.ToString(), s.Outcome?.ToString(), s.VmName, s.RunnerName, s.QueuedAt, s.FinishedAt);

    public static JobDetailView Detail(JobRecord record)
    {
        var s = record.State;
        return new JobDetailView(
            s.JobId,
            s.Repo?.FullName,
            s.Phase.ToString(),
            s.Outcome?.ToString(),
            s.Reason,
            s.Labels,
            s.RunId,
            s.VmName,
            s.RunnerId,
            s.RunnerName,
            s.QueuedAt,
            s.ClaimedAt,
            s.RunnerStartedAt,
            s.JobStartedAt,
            s.FinishedAt,
            Seconds(s.QueuedAt, s.RunnerStartedAt),
            Seconds(s.ClaimedAt, s.RunnerStartedAt),
            s.Cycles,
            s.AbandonedVms,
            record.History.Select(h => new JobHistoryEntryView(h.SequenceNr, At(h.Event) ?? h.WrittenAt, Name(h.Event), Describe(h.Event))).ToList());
    }

    /// <summary>Whether the job matches <c>--repo</c> and <c>--state</c> (a phase or an outcome), case-insensitively; null matches all.</summary>
    public static bool Matches(JobState s, string? repo, string? state) =>
        (string.IsNullOrEmpty(repo) || string.Equals(s.Repo?.FullName, repo, StringComparison.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(state)
            || string.Equals(s.Phase.ToString(), state, StringComparison.OrdinalIgnoreCase)
            || string.Equals(s.Outcome?.ToString(), state, StringComparison.OrdinalIgnoreCase));

    public static string Name(IJobEvent e) => e.GetType().Name;

    public static DateTimeOffset? At(IJobEvent e) => e switch
    {
        JobEvents.JobSighted x => x.SeenAt,
        JobEvents.VmClaimed x => x.ClaimedAt,
        JobEvents.RunnerStarted x => x.StartedAt,
        JobEvents.RunnerJobStarted x => x.At,
        JobEvents.JobFinished x => x.At,
        JobEvents.VmReleased x => x.At,
        _ => null,
    };

    public static string Describe(IJobEvent e) => e switch
    {
        JobEvents.JobSighted x => $"queued in {x.Repo} (run {x.RunId}) with labels [{string.Join(",", x.Labels)}]{(x.QueuedAt is { } q ? $", queued at {q.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture)}" : "")}",
        JobEvents.VmClaimed x => $"claimed VM {x.VmName}",
        JobEvents.RunnerRegistered x => $"registered runner {x.RunnerName} (id {x.RunnerId})",
        JobEvents.RunnerStarted => "runner started",
        JobEvents.RunnerJobStarted { RanJobId: { } ran } => $"runner got a job: began running job {ran}",
        JobEvents.RunnerJobStarted => "runner got a job: this job left the queue (seen by a poll)",
        JobEvents.VmAbandoned x => $"gave VM {x.VmName} up: {x.Reason}",
        JobEvents.JobFinished x => $"{x.Outcome}: {x.Reason}",
        JobEvents.VmReleased x => $"released VM {x.VmName}",
        _ => e.ToString() ?? "",
    };

    private static double? Seconds(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } f && to is { } t ? Math.Round((t - f).TotalSeconds, 3) : null;
}
