using Akka.Actor;
using Blip.Actors.Jobs;

namespace Blip.Actors.Inspection;

/// <summary>
/// Published on the node's EventStream by <see cref="JobActor"/> after each persisted event (one line in its
/// persist callback), so metrics follow the job lifecycle without the job code knowing about them.
/// </summary>
/// <param name="State">The job's state after the event.</param>
public sealed record JobEventPublished(long JobId, IJobEvent Event, JobState State) : INoSerializationVerificationNeeded;
