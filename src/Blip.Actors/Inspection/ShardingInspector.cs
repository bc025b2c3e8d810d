using Akka.Actor;
using Akka.Cluster.Sharding;
using Blip.Actors.Jobs;

namespace Blip.Actors.Inspection;

/// <summary>The shard regions: their names, per-member statistics and where one entity lives.</summary>
public sealed class ShardingInspector(ActorSystem system)
{
    public ShardingRegionsView Regions() =>
        new(ClusterSharding.Get(system).ShardTypeNames.Order(StringComparer.Ordinal).ToList());

    public async Task<RegionStatsView> RegionStatsAsync(string type)
    {
        var region = Region(type);
        var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(InspectionAsks.Timeout), InspectionAsks.Timeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
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
        if (type != JobsRegistration.RegionName)
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
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, InspectionAsks.Timeout).ConfigureAwait(false);
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
}
