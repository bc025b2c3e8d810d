namespace Blip.Actors.Polling;

/// <summary>The settings the pollers read; bound and validated as part of <c>Hosting.BlipOptions</c> (same names).</summary>
public sealed class PollingOptions
{
    /// <summary>The floor of each repo's poll interval.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Each poller waits at least this per configured repo between polls, so the cluster's discovery stays
    /// under GitHub's secondary limit (900 points per minute) however many repos there are: a poll lists the queued runs
    /// and reads the runs holding queued jobs, and every <c>PollInProgressEvery</c>-th lists three more statuses, so 300 ms
    /// per repo keeps discovery well under that.</summary>
    public TimeSpan PollSpacingPerRepo { get; init; } = TimeSpan.FromMilliseconds(300);
}
