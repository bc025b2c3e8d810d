using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;

namespace Blip.Actors.Jobs;

/// <summary>The end of a job's record (<see cref="JobRetention"/>): its events deleted when the sweeper asks and the job
/// finished a retention ago. The actor keeps its state until it stops, so a sighting in between still meets the tombstone.</summary>
public sealed partial class JobActor
{
    private IActorRef? _forgetAsker;

    private void DeleteEvents()
    {
        _forgetAsker = Sender;
        DeleteMessages(LastSequenceNr);
    }

    private void EventsDeleted(DeleteMessagesSuccess deleted)
    {
        _log.Debug("job {0}: events up to {1} deleted", _jobId, deleted.ToSequenceNr);
        _forgetAsker?.Tell(new JobRetentionSweeper.EventsDeleted(_jobId, PersistenceId));
        _forgetAsker = null;
        Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private void EventsNotDeleted(DeleteMessagesFailure failed)
    {
        _log.Warning("job {0}: deleting its events failed ({1}); the retention sweeper asks again", _jobId, failed.Cause.Message);
        _forgetAsker = null;
    }
}
