using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Blip.Actors.Jobs;

/// <summary>
/// Bounds the journal by what is live plus <c>Blip:JobRetention</c> (<see cref="JobRetention"/>). Each sweep reads the
/// jobs' finished events by tag, oldest first, up to the first one finished less than a retention ago (the events of
/// deleted jobs are no longer there, so a sweep reads only what is due and one more), and asks each job to
/// <see cref="JobCommands.Forget"/>: a job still done deletes its events; one taken up again since says nothing. The row
/// the SQL journal keeps, marked deleted, for each job's highest sequence number then goes too
/// (<see cref="DeletedJournalRows"/>), and each sweep removes any such row a removal left behind (it failed, or its node
/// stopped before it ran): nothing of a forgotten job stays. A cluster singleton.
/// </summary>
public sealed class JobRetentionSweeper : ReceiveActor, IWithTimers
{
    private const string SweepTimer = "sweep";

    /// <summary>Forgets asked per sweep: a backlog (a first start on a long journal) drains over a few sweeps.</summary>
    private const int MaxPerSweep = 1000;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _jobs;
    private readonly Func<TimeSpan> _retentionOf;
    private readonly string _readJournalId;
    private readonly DeletedJournalRows? _rows;
    private TimeSpan _retention;
    private bool _sweeping;

    public JobRetentionSweeper(IActorRef jobs, Func<TimeSpan> retentionOf, string readJournalId, DeletedJournalRows? rows)
    {
        _jobs = jobs;
        _retentionOf = retentionOf;
        _readJournalId = readJournalId;
        _rows = rows;
        Receive<Begin>(_ => BeginSweeping());
        Receive<Sweep>(_ => StartSweep());
        Receive<Due>(OnDue);
        Receive<EventsDeleted>(OnEventsDeleted);
        Receive<Purged>(m =>
        {
            if (m.Error is null)
            {
                return;
            }

            if (m.JobId is { } jobId)
            {
                _log.Warning("job {0}: its events are deleted, but removing their last row failed ({1}); the next sweep removes it", jobId, m.Error);
            }
            else
            {
                _log.Warning("job retention: removing the last rows of forgotten jobs failed ({0}); the next sweep tries again", m.Error);
            }
        });
        ReceiveAny(Unhandled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="retentionOf">Read when the sweeper starts (the job options are resolved late, as the job actors' are).</param>
    /// <param name="readJournalId">The read journal that answers events by tag.</param>
    /// <param name="rows">Removes the row the journal keeps after a delete; null keeps it.</param>
    public static Props Props(IActorRef jobs, Func<TimeSpan> retentionOf, string readJournalId, DeletedJournalRows? rows) =>
        Akka.Actor.Props.Create(() => new JobRetentionSweeper(jobs, retentionOf, readJournalId, rows));

    // The options are read in a message, not in PreStart: a failure there would stop the singleton for good; here it
    // restarts it.
    protected override void PreStart() => Self.Tell(Begin.Instance);

    private void BeginSweeping()
    {
        _retention = _retentionOf();
        var interval = JobRetention.SweepInterval(_retention);
        _log.Info("job retention: finished jobs are forgotten {0} after they finish (Blip:JobRetention); looking every {1}", _retention, interval);
        Timers.StartPeriodicTimer(SweepTimer, Sweep.Instance, TimeSpan.Zero, interval);
    }

    private void StartSweep()
    {
        if (_sweeping)
        {
            return;
        }

        _sweeping = true;
        _rows?.RemoveAllAsync(JobPersistenceIds.Prefix, CancellationToken.None)
            .PipeTo(Self, success: _ => new Purged(null, null), failure: e => new Purged(null, e.GetBaseException().Message));
        var now = DateTimeOffset.UtcNow;
        var retention = _retention;
        PersistenceQuery.Get(Context.System).ReadJournalFor<ICurrentEventsByTagQuery>(_readJournalId)
            .CurrentEventsByTag(JobRetention.FinishedTag, Offset.NoOffset())
            .TakeWhile(e => e.Event is JobEvents.JobFinished f && JobRetention.IsPast(f.At, now, retention))
            .Select(e => e.PersistenceId)
            .Take(MaxPerSweep)
            .RunWith(Sink.Seq<string>(), Context.Materializer())
            .PipeTo(Self, success: ids => new Due(ids, null), failure: e => new Due([], e.GetBaseException().Message));
    }

    private void OnDue(Due due)
    {
        _sweeping = false;
        if (due.Error is not null)
        {
            _log.Warning("job retention: reading finished jobs failed ({0}); next sweep in {1}", due.Error, JobRetention.SweepInterval(_retention));
            return;
        }

        foreach (var jobId in due.PersistenceIds.Select(JobPersistenceIds.JobIdOf).OfType<long>().Distinct())
        {
            _jobs.Tell(new JobCommands.Forget(new Shared.JobId(jobId)));
        }
    }

    private void OnEventsDeleted(EventsDeleted deleted)
    {
        if (_rows is null)
        {
            return;
        }

        var jobId = deleted.JobId;
        _rows.RemoveAsync(deleted.PersistenceId, CancellationToken.None)
            .PipeTo(Self, success: _ => new Purged(jobId, null), failure: e => new Purged(jobId, e.GetBaseException().Message));
    }

    /// <summary>A job's answer to <see cref="JobCommands.Forget"/>: its events are deleted.</summary>
    public sealed record EventsDeleted(long JobId, string PersistenceId);

    private sealed class Begin : INoSerializationVerificationNeeded
    {
        public static readonly Begin Instance = new();
    }

    private sealed class Sweep : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly Sweep Instance = new();
    }

    private sealed record Due(IReadOnlyList<string> PersistenceIds, string? Error) : INoSerializationVerificationNeeded;

    /// <summary>A removal's outcome: of one job's last row, or (no job) of every row a removal left behind.</summary>
    private sealed record Purged(long? JobId, string? Error) : INoSerializationVerificationNeeded;
}
