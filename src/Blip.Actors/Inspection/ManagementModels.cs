namespace Blip.Actors.Inspection;

// The JSON the management endpoint serves (camelCase) and blipctl reads: this one file is compiled into both
// (Blip.Ctl links it), so the two cannot drift apart. Plain records only: nothing from the controller's packages.

public sealed record ErrorView(string Error);

public sealed record HealthView(string Status, IReadOnlyList<string> Reasons);

public sealed record MemberView(string Address, IReadOnlyList<string> Roles, string Status, string Reachability);

public sealed record ClusterView(string Self, string SelfStatus, string? Leader, IReadOnlyList<MemberView> Members);

public sealed record ClusterEventView(long Seq, DateTimeOffset At, string Kind, string Address, string Detail);

public sealed record ClusterEventsView(long Last, IReadOnlyList<ClusterEventView> Events);

public sealed record ActionView(string Result);

public sealed record ActorTreeView(string Root, int Depth, IReadOnlyList<string> Paths);

public sealed record ShardingRegionsView(IReadOnlyList<string> Regions);

public sealed record ShardStatView(string ShardId, int Entities);

public sealed record RegionMemberStatsView(string Address, int Shards, int Entities, IReadOnlyList<ShardStatView> ShardStats);

public sealed record RegionStatsView(string Type, IReadOnlyList<RegionMemberStatsView> Members, IReadOnlyList<string> Failed);

public sealed record LocateView(string Type, string EntityId, string ShardId, string? Address, bool? EntityAlive);

public sealed record LogEntryView(DateTimeOffset At, string Level, string Category, string Message);

public sealed record LogView(IReadOnlyList<LogEntryView> Entries);

public sealed record JobSummaryView(
    long Id, string? Repo, string Phase, string? Outcome, string? Vm, string? Runner, DateTimeOffset? QueuedAt, DateTimeOffset? FinishedAt);

/// <param name="More">Where the next page starts (<c>?before=</c>); null when this page was the last.</param>
public sealed record JobsView(IReadOnlyList<JobSummaryView> Jobs, long? More = null);

public sealed record JobHistoryEntryView(long Seq, DateTimeOffset? At, string Event, string Detail);

public sealed record JobDetailView(
    long Id,
    string? Repo,
    string Phase,
    string? Outcome,
    string? Reason,
    IReadOnlyList<string> Labels,
    long RunId,
    string? Vm,
    long? RunnerId,
    string? Runner,
    DateTimeOffset? QueuedAt,
    DateTimeOffset? ClaimedAt,
    DateTimeOffset? RunnerStartedAt,
    DateTimeOffset? JobStartedAt,
    DateTimeOffset? FinishedAt,
    double? PickupLatencySeconds,
    double? ProvisioningSeconds,
    int Cycles,
    IReadOnlyList<string> AbandonedVms,
    IReadOnlyList<JobHistoryEntryView> History);

public sealed record ReposView(IReadOnlyList<string> Repos, string? PollerNode);

public sealed record VmRowView(string Name, bool Claimable, string? Session, string? ClaimedBy, long? JobId, string? Address, string? Phase, bool Ready, bool ReleaseRequested);

public sealed record VmsView(bool Synced, IReadOnlyList<VmRowView> Vms);

public sealed record RateLimitView(bool Known, int? Limit, int? Remaining, DateTimeOffset? ResetAt, DateTimeOffset? PausedUntil, string? PauseReason);

/// <param name="AppPresent">Secret <c>github-app</c> holds a usable GitHub App (then every call uses it, not the PAT).</param>
public sealed record ConfigView(bool Synced, bool Complete, bool PatPresent, IReadOnlyList<string> Labels, IReadOnlyList<string> Repos, bool AppPresent = false);
