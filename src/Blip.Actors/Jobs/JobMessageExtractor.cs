using Akka.Cluster.Sharding;

namespace Blip.Actors.Jobs;

/// <summary>Routes every <see cref="IWithJobId"/> message to the entity named by its job id.</summary>
public sealed class JobMessageExtractor(int maxShards = 100) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => (message as IWithJobId)?.JobId.ToString();
}
