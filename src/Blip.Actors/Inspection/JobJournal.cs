using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Inspection;

/// <summary>
/// Reads job histories straight from the journal (Akka.Persistence.Query on the SQL journal) and folds them with
/// <see cref="JobState.Apply"/>: cluster-wide, survives restarts, and wakes no job actor. Which jobs there are comes
/// from the tag table, newest sighting first, a page at a time (<see cref="SightingsAsync"/>): a listing never reads
/// every persistence id.
/// </summary>
public sealed class JobJournal(ActorSystem system, JournalStore store)
{
    // The controller's SQL journal uses Akka.Persistence.Sql's default table mapping: tag table "tags".
    private const string SightingsQuery =
        "SELECT ordering_id, persistence_id FROM tags WHERE tag = @tag AND ordering_id < @before ORDER BY ordering_id DESC LIMIT @count";

    private readonly Lazy<IMaterializer> _materializer = new(() => ActorMaterializer.Create(system, namePrefix: "inspection-journal"));

    private SqlReadJournal Journal => PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);

    /// <summary>Up to <paramref name="count"/> sightings (<see cref="JobRetention.SightedTag"/>) written before the journal
    /// position <paramref name="before"/>, newest first: an index range of the tag table's key.</summary>
    public async Task<IReadOnlyList<JobSighting>> SightingsAsync(long before, int count, CancellationToken ct)
    {
        await using var connection = store.CreateConnection();
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = SightingsQuery;
        command.With("@tag", JobRetention.SightedTag).With("@before", before).With("@count", count);
        var sightings = new List<JobSighting>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var persistenceId = reader.GetString(1);
            if (JobPersistenceIds.JobIdOf(persistenceId) is { } jobId)
            {
                sightings.Add(new JobSighting(reader.GetInt64(0), jobId));
            }
        }

        return sightings;
    }

    /// <summary>The job's state and its events in order, or null when the journal has none.</summary>
    public async Task<JobRecord?> ReadAsync(long jobId, CancellationToken ct)
    {
        var envelopes = await Journal.CurrentEventsByPersistenceId(JobPersistenceIds.Of(jobId), 0, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), _materializer.Value)
            .WaitAsync(ct)
            .ConfigureAwait(false);
        if (envelopes.Count == 0)
        {
            return null;
        }

        var state = JobState.Empty;
        var history = new List<JournaledJobEvent>();
        foreach (var envelope in envelopes)
        {
            if (envelope.Event is IJobEvent e)
            {
                state = state.Apply(e);
                history.Add(new JournaledJobEvent(envelope.SequenceNr, WrittenAt(envelope.Timestamp), e));
            }
        }

        return new JobRecord(state, history);
    }

    /// <summary>The SQL journal stores the write time as ticks (or, in older rows, Unix milliseconds).</summary>
    private static DateTimeOffset? WrittenAt(long timestamp) => timestamp switch
    {
        > 500_000_000_000_000_000 when timestamp <= DateTime.MaxValue.Ticks => new DateTimeOffset(timestamp, TimeSpan.Zero),
        > 1_000_000_000_000 and < 100_000_000_000_000 => DateTimeOffset.FromUnixTimeMilliseconds(timestamp),
        _ => null,
    };
}

/// <summary>A job's sighting in the journal: <paramref name="Position"/> is its ordering (the paging cursor).</summary>
public sealed record JobSighting(long Position, long JobId);

public sealed record JournaledJobEvent(long SequenceNr, DateTimeOffset? WrittenAt, IJobEvent Event);

public sealed record JobRecord(JobState State, IReadOnlyList<JournaledJobEvent> History);
