using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Blip.Actors.Vms;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Inspection;

/// <summary>A question the node could not answer (unknown region, bad argument); the endpoint answers 4xx.</summary>
public sealed class InspectionException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Everything the management endpoint asks of this node, as plain async methods returning the API's views:
/// cluster state, actors, sharding, logs, and the domain (jobs, repos, VMs, config).
/// </summary>
public sealed class NodeInspector(ActorSystem system, IActorRegistry registry, InspectionOptions options, BlipMetrics metrics, LogRing logs, IGitHubActions? gitHub = null, ConfigurationFaults? faults = null)
{
    /// <summary>Where <c>WithSingleton("pollers")</c> puts the coordinator: manager <c>/user/pollers</c>, singleton child <c>pollers</c>.</summary>
    public const string PollerSingletonPath = "pollers/pollers";

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);
    private readonly JobJournal _journal = new(system);

    private Cluster Cluster => Cluster.Get(system);

    // ---- health ----

    public bool IsLive => !system.WhenTerminated.IsCompleted;

    /// <summary>Ready: member Up, journal reachable, config and VM watches synced, no configuration fault. Reasons name what is not.</summary>
    public async Task<IReadOnlyList<string>> NotReadyReasonsAsync(CancellationToken ct)
    {
        var reasons = new List<string>();
        if (Cluster.SelfMember.Status != MemberStatus.Up)
        {
            reasons.Add($"cluster member is {Cluster.SelfMember.Status}, not Up");
        }

        var journal = options.Journal.ProbeAsync(TimeSpan.FromSeconds(2), ct);
        var config = AskOrNull<ConfigProtocol.SettingsChanged>(registry.Get<ConfigWatcherKey>(), ConfigProtocol.GetSettings.Instance, TimeSpan.FromSeconds(2));
        // The inventory holds questions until its first complete list: no answer in time means not synced.
        var vms = AskOrNull<VmInventoryProtocol.AllVms>(registry.Get<VmInventoryKey>(), VmInventoryProtocol.GetAll.Instance, TimeSpan.FromSeconds(2));
        if (await journal.ConfigureAwait(false) is { } journalError)
        {
            reasons.Add($"journal unreachable: {journalError}");
        }

        if (await config.ConfigureAwait(false) is not { Synced: true })
        {
            reasons.Add("config watches (Secret github-pat, ConfigMap github-actions) not synced");
        }

        if (await vms.ConfigureAwait(false) is not { Synced: true })
        {
            reasons.Add($"VM inventory of pool {options.Pool} not synced");
        }

        foreach (var fault in faults?.Active.Values ?? [])
        {
            reasons.Add($"configuration fault: {fault}");
        }

        return reasons;
    }

    // ---- metrics ----

    /// <summary>Sets the gauges from the node's current view, then renders every metric.</summary>
    public async Task<string> ScrapeAsync()
    {
        var state = Cluster.State;
        metrics.ConfigurationFaultsActive.Set(faults?.Active.Count ?? 0);
        metrics.ClusterMembers.Set(state.Members.Count(m => m.Status == MemberStatus.Up));
        var vms = await AskOrNull<VmInventoryProtocol.AllVms>(registry.Get<VmInventoryKey>(), VmInventoryProtocol.GetAll.Instance, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        if (vms is not null)
        {
            metrics.VmsClaimed.Set(vms.Vms.Count(v => v.ClaimedByJob is not null));
            metrics.VmsClaimable.Set(vms.Vms.Count(v => v.IsClaimable));
        }

        var region = await AskOrNull<ShardRegionStats>(registry.Get<JobRegion>(), GetShardRegionStats.Instance, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        if (region is not null)
        {
            metrics.Shards.Set(region.Stats.Count);
            metrics.ShardEntities.Set(region.Stats.Values.Sum());
        }

        var rateLimit = gitHub?.RateLimit;
        metrics.GitHubRateLimit.Set(rateLimit?.Limit);
        metrics.GitHubRateLimitRemaining.Set(rateLimit?.Remaining);
        metrics.GitHubRateLimitReset.Set(rateLimit?.ResetAt?.ToUnixTimeSeconds());
        return metrics.Render();
    }

    // ---- cluster ----

    public ClusterView ClusterState()
    {
        var state = Cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
            .Select(m => new MemberView(
                m.Address.ToString(),
                m.Roles.Order(StringComparer.Ordinal).ToList(),
                m.Status.ToString(),
                unreachable.Contains(m.Address) ? "Unreachable" : "Reachable"))
            .ToList();
        return new ClusterView(Cluster.SelfAddress.ToString(), Cluster.SelfMember.Status.ToString(), state.Leader?.ToString(), members);
    }

    public Task<ClusterEventsView> ClusterEventsAsync(long after) =>
        registry.Get<ClusterEventLogKey>().Ask<ClusterEventsView>(new ClusterEventLog.GetEvents(after), AskTimeout);

    public ActionView Leave(string address)
    {
        var target = MemberAddress(address);
        Cluster.Leave(target);
        return new ActionView($"asked {target} to leave the cluster");
    }

    public ActionView Down(string address)
    {
        var target = MemberAddress(address);
        Cluster.Down(target);
        return new ActionView($"marked {target} as down");
    }

    public ActionView DownUnreachable()
    {
        var unreachable = Cluster.State.Unreachable.Select(m => m.Address).ToList();
        foreach (var address in unreachable)
        {
            Cluster.Down(address);
        }

        return new ActionView(unreachable.Count == 0
            ? "no unreachable members"
            : $"marked {unreachable.Count} unreachable member(s) as down: {string.Join(", ", unreachable)}");
    }

    private Address MemberAddress(string address)
    {
        Address parsed;
        try
        {
            parsed = Address.Parse(address.Trim());
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            throw new InspectionException(400, $"'{address}' is not an actor system address (akka.tcp://blip@host:port)");
        }

        if (!Cluster.State.Members.Any(m => m.Address.Equals(parsed)))
        {
            throw new InspectionException(404, $"{parsed} is not a member of this cluster");
        }

        return parsed;
    }

    // ---- actors ----

    public async Task<ActorTreeView> ActorTreeAsync(string? root, int depth)
    {
        root = string.IsNullOrWhiteSpace(root) ? "/" : "/" + root.Trim().Trim('/');
        depth = Math.Clamp(depth, 1, 12);
        var walker = system.ActorOf(ActorTreeWalker.Props(root, depth));
        return await walker.Ask<ActorTreeView>(ActorTreeWalker.Walk.Instance, TimeSpan.FromSeconds((ActorTreeWalker.LevelCap.TotalSeconds + 0.5) * depth + 2)).ConfigureAwait(false);
    }

    // ---- sharding ----

    public ShardingRegionsView Regions() =>
        new(ClusterSharding.Get(system).ShardTypeNames.Order(StringComparer.Ordinal).ToList());

    public async Task<RegionStatsView> RegionStatsAsync(string type)
    {
        var region = Region(type);
        var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(AskTimeout), AskTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var members = stats.Regions
            .OrderBy(r => r.Key.ToString(), StringComparer.Ordinal)
            .Select(r => new RegionMemberStatsView(
                r.Key.ToString(),
                r.Value.Stats.Count,
                r.Value.Stats.Values.Sum(),
                r.Value.Stats.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new ShardStatView(s.Key, s.Value)).ToList()))
            .ToList();
        var failed = stats.Regions.SelectMany(r => r.Value.Failed.Select(f => $"{r.Key}/{f}")).Order(StringComparer.Ordinal).ToList();
        return new RegionStatsView(type, members, failed);
    }

    public async Task<LocateView> LocateAsync(string type, string entityId)
    {
        Region(type);
        if (type != "job")
        {
            throw new InspectionException(400, $"locate knows the shard function of region 'job' only, not '{type}'");
        }

        var shardId = new JobMessageExtractor().ShardId(entityId);
        var stats = await RegionStatsAsync(type).ConfigureAwait(false);
        var owner = stats.Members.FirstOrDefault(m => m.ShardStats.Any(s => s.ShardId == shardId))?.Address;
        bool? alive = null;
        if (owner is not null)
        {
            var region = system.ActorSelection($"{owner}/system/sharding/{type}");
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, AskTimeout).ConfigureAwait(false);
            alive = state.Shards.Any(s => s.ShardId == shardId && s.EntityIds.Contains(entityId));
        }

        return new LocateView(type, entityId, shardId, owner, alive);
    }

    private IActorRef Region(string type)
    {
        if (!ClusterSharding.Get(system).ShardTypeNames.Contains(type))
        {
            throw new InspectionException(404, $"no shard region '{type}' (regions: {string.Join(", ", ClusterSharding.Get(system).ShardTypeNames.Order(StringComparer.Ordinal))})");
        }

        return ClusterSharding.Get(system).ShardRegion(type);
    }

    // ---- logs ----

    public LogView Logs(int count, string? level)
    {
        var minimum = LogLevel.Trace;
        if (!string.IsNullOrWhiteSpace(level) && !TryParseLevel(level, out minimum))
        {
            throw new InspectionException(400, $"unknown log level '{level}' (debug, info, warning, error)");
        }

        return new LogView(logs.Peek(Math.Clamp(count, 1, LogRing.Capacity), minimum));
    }

    public static bool TryParseLevel(string value, out LogLevel level)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "trace" or "verbose":
                level = LogLevel.Trace;
                return true;
            case "debug":
                level = LogLevel.Debug;
                return true;
            case "info" or "information":
                level = LogLevel.Information;
                return true;
            case "warn" or "warning":
                level = LogLevel.Warning;
                return true;
            case "error":
                level = LogLevel.Error;
                return true;
            case "critical":
                level = LogLevel.Critical;
                return true;
            default:
                level = LogLevel.None;
                return false;
        }
    }

    // ---- domain ----

    /// <summary>
    /// The newest <paramref name="limit"/> jobs matching the filters. GitHub job ids grow over time, so jobs are read
    /// newest id first and reading stops once enough match: a long journal costs only what is shown.
    /// </summary>
    public async Task<JobsView> JobsAsync(string? repo, string? state, int limit, CancellationToken ct)
    {
        var ids = (await _journal.JobIdsAsync(ct).ConfigureAwait(false)).OrderDescending().ToList();
        var matching = new List<JobState>();
        // A few reads at a time: the journal is shared with the job actors.
        foreach (var chunk in ids.Chunk(8))
        {
            var read = await Task.WhenAll(chunk.Select(id => _journal.ReadAsync(id, ct))).ConfigureAwait(false);
            matching.AddRange(read.Where(r => r is not null && JobViews.Matches(r.State, repo, state)).Select(r => r!.State));
            if (matching.Count >= limit)
            {
                break;
            }
        }

        return new JobsView(matching.Take(limit).Select(JobViews.Summary).ToList());
    }

    public async Task<JobDetailView> JobAsync(long jobId, CancellationToken ct)
    {
        var record = await _journal.ReadAsync(jobId, ct).ConfigureAwait(false)
            ?? throw new InspectionException(404, $"job {jobId}: no such job in the journal");
        return JobViews.Detail(record);
    }

    /// <summary>Asks the poller coordinator, a cluster singleton that runs on the oldest controller member.</summary>
    public async Task<ReposView> ReposAsync()
    {
        var oldest = Cluster.State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole("controller"))
            .Aggregate((Member?)null, (best, m) => best is null || m.IsOlderThan(best) ? m : best)
            ?? throw new InspectionException(503, "no controller member is Up: the poller coordinator is not running");
        var coordinator = system.ActorSelection(oldest.Address + "/user/" + PollerSingletonPath);
        var polled = await coordinator.Ask<PollerQueries.PolledRepos>(PollerQueries.GetPolledRepos.Instance, AskTimeout).ConfigureAwait(false);
        return new ReposView(polled.Repos, oldest.Address.ToString());
    }

    public async Task<VmsView> VmsAsync()
    {
        var all = await AskOrNull<VmInventoryProtocol.AllVms>(registry.Get<VmInventoryKey>(), VmInventoryProtocol.GetAll.Instance, AskTimeout).ConfigureAwait(false)
            ?? throw new InspectionException(503, $"VM inventory of pool {options.Pool} not synced yet");
        return new VmsView(all.Synced, all.Vms
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .Select(v => new VmRowView(
                v.Name,
                v.IsClaimable,
                string.IsNullOrEmpty(v.SessionId) ? null : v.SessionId,
                v.Annotations.GetValueOrDefault(VmAnnotations.ClaimedBy),
                v.ClaimedByJob,
                v.Address,
                v.VmiPhase,
                v.VmiReady,
                v.ReleaseRequested))
            .ToList());
    }

    /// <summary>This node's view of the PAT's rate limit (each node reads it from its own replies).</summary>
    public RateLimitView RateLimit() =>
        gitHub?.RateLimit is { } r
            ? new RateLimitView(true, r.Limit, r.Remaining, r.ResetAt, r.PausedUntil, r.PauseReason)
            : new RateLimitView(false, null, null, null, null, null);

    public async Task<ConfigView> ConfigAsync()
    {
        var settings = await registry.Get<ConfigWatcherKey>().Ask<ConfigProtocol.SettingsChanged>(ConfigProtocol.GetSettings.Instance, AskTimeout).ConfigureAwait(false);
        return new ConfigView(
            settings.Synced,
            settings.Config is not null,
            settings.HasPat,
            settings.Config?.RunnerLabels.ToList() ?? [],
            settings.Config?.Repos.Select(r => r.FullName).ToList() ?? []);
    }

    private static async Task<T?> AskOrNull<T>(IActorRef actor, object message, TimeSpan timeout) where T : class
    {
        try
        {
            return await actor.Ask<T>(message, timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}
