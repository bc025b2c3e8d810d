using Blip.Actors.Inspection;
using Microsoft.Data.Sqlite;

namespace Blip.Actors.Tests.Inspection;

public sealed class JournalStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("blip-journal-store-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static string ModeOf(JournalStore store)
    {
        using var connection = new SqliteConnection(store.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        return (string)command.ExecuteScalar()!;
    }

    [Fact]
    public void The_sqlite_journal_is_put_in_write_ahead_log_mode_and_stays_there()
    {
        var store = JournalStore.From("sqlite", null, _dir);

        store.UseWriteAheadLog();
        SqliteConnection.ClearAllPools();

        // A new connection, as the journal's own: the mode is kept in the file.
        Assert.Equal("wal", ModeOf(store));
        store.UseWriteAheadLog(); // again, on an existing file: no error
        Assert.Equal("wal", ModeOf(store));
    }

    [Fact]
    public void A_postgres_journal_is_left_alone() =>
        JournalStore.From("postgres", "Host=127.0.0.1;Port=1;Database=none", _dir).UseWriteAheadLog();
}
