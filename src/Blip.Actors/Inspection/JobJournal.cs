using System.Globalization;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Blip.Actors.Jobs;

namespace Blip.Actors.Inspection;

/// <summary>
/// Reads job histories straight from the journal (Akka.Persistence.Query on the SQL journal) and folds them with
/// <see cref="JobState.Apply"/>: cluster-wide, survives restarts, and wakes no job actor.
/// </summary>
public sealed class JobJournal(ActorSystem system)
{
    private const string Prefix = "job-";
    private readonly Lazy<IMaterializer> _materializer = new(() => ActorMaterializer.Create(system, namePrefix: "inspection-journal"));

    private SqlReadJournal Journal => PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);

    public async Task<IReadOnlyList<long>> JobIdsAsync(CancellationToken ct)
    {
        var ids = await Journal.CurrentPersistenceIds()
            .Where(id => id.StartsWith(Prefix, StringComparison.Ordinal))
            .RunWith(Sink.Seq<string>(), _materializer.Value)
            .WaitAsync(ct)
            .ConfigureAwait(false);
        return ids.Select(id => long.TryParse(id.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1)
            .Where(v => v >= 0)
            .ToList();
    }

    /// <summary>The job's state and its events in order, or null when the journal has none.</summary>
    public async Task<JobRecord?> ReadAsync(long jobId, CancellationToken ct)
    {
        var envelopes = await Journal.CurrentEventsByPersistenceId(Prefix + jobId.ToString(CultureInfo.InvariantCulture), 0, long.MaxValue)
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

public sealed record JournaledJobEvent(long SequenceNr, DateTimeOffset? WrittenAt, IJobEvent Event);

public sealed record JobRecord(JobState State, IReadOnlyList<JournaledJobEvent> History);
