using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Vms;

namespace Blip.Actors.Inspection;

/// <summary>A question the node could not answer (unknown region, bad argument); the endpoint answers 4xx.</summary>
public sealed class InspectionException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Everything the management endpoint asks of this node, as plain async methods returning the API's views: health and
/// metrics here, the rest by concern in <see cref="Cluster"/> (members, actors), <see cref="Sharding"/>,
/// <see cref="Jobs"/> (jobs, repos, VMs, rate limit, config) and <see cref="Logs"/>.
/// </summary>
public sealed class NodeInspector(ActorSystem system, IActorRegistry registry, InspectionOptions options, BlipMetrics metrics, LogRing logs, IGitHubActions? gitHub = null, ConfigurationFaults? faults = null)
{
    public ClusterInspector Cluster { get; } = new(system, registry);

    public ShardingInspector Sharding { get; } = new(system);

    public JobsInspector Jobs { get; } = new(system, registry, options, gitHub);

    public LogInspector Logs { get; } = new(logs);

    private Akka.Cluster.Cluster Node => Akka.Cluster.Cluster.Get(system);

    // ---- health ----

    public bool IsLive => !system.WhenTerminated.IsCompleted;

    /// <summary>Ready: member Up, journal reachable, config and VM watches synced, no configuration fault. Reasons name what is not.</summary>
    public async Task<IReadOnlyList<string>> NotReadyReasonsAsync(CancellationToken ct)
    {
        var reasons = new List<string>();
        if (Node.SelfMember.Status != MemberStatus.Up)
        {
            reasons.Add($"cluster member is {Node.SelfMember.Status}, not Up");
        }

        var journal = options.Journal.ProbeAsync(TimeSpan.FromSeconds(2), ct);
        var config = InspectionAsks.OrNull<ConfigProtocol.SettingsChanged>(registry.Get<ConfigWatcherKey>(), ConfigProtocol.GetSettings.Instance, TimeSpan.FromSeconds(2));
        // The inventory holds questions until its first complete list: no answer in time means not synced.
        var vms = InspectionAsks.OrNull<VmInventoryProtocol.AllVms>(registry.Get<VmInventoryKey>(), VmInventoryProtocol.GetAll.Instance, TimeSpan.FromSeconds(2));
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
        var state = Node.State;
        metrics.ConfigurationFaultsActive.Set(faults?.Active.Count ?? 0);
        metrics.ClusterMembers.Set(state.Members.Count(m => m.Status == MemberStatus.Up));
        var vms = await InspectionAsks.OrNull<VmInventoryProtocol.AllVms>(registry.Get<VmInventoryKey>(), VmInventoryProtocol.GetAll.Instance, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        if (vms is not null)
        {
            metrics.VmsClaimed.Set(vms.Vms.Count(v => v.ClaimedByJob is not null));
            metrics.VmsClaimable.Set(vms.Vms.Count(v => v.IsClaimable));
        }

        var region = await InspectionAsks.OrNull<ShardRegionStats>(registry.Get<JobRegion>(), GetShardRegionStats.Instance, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        if (region is not null)
        {
            metrics.Shards.Set(region.Stats.Count);
            metrics.ShardEntities.Set(region.Stats.Values.Sum());
        }

        var rateLimit = gitHub?.RateLimit;
        metrics.GitHubRateLimit.Set(rateLimit?.Limit);
        metrics.GitHubRateLimitRemaining.Set(rateLimit?.Remaining);
        metrics.GitHubRateLimitReset.Set(rateLimit?.ResetAt?.ToUnixTimeSeconds());
        return await metrics.RenderAsync().ConfigureAwait(false);
    }
}
