using Blip.Actors.Jobs;
using Microsoft.Data.Sqlite;

namespace Blip.Actors.Tests.Jobs;

/// <summary>On a real SQLite file shaped like Akka.Persistence.Sql's journal (the columns the removal reads).</summary>
public sealed class DeletedJournalRowsTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"blip-journal-{Guid.NewGuid():N}.db");

    private string ConnectionString => $"Data Source={_file};Pooling=False";

    public DeletedJournalRowsTests()
    {
        Execute("CREATE TABLE journal (ordering INTEGER PRIMARY KEY, persistence_id TEXT NOT NULL, sequence_number INTEGER NOT NULL, deleted INTEGER NOT NULL)");
        // job-1: forgotten, its last row kept marked deleted; job-2: live; job-3: forgotten too; config-1: not a job's.
        Execute("""
            INSERT INTO journal (persistence_id, sequence_number, deleted) VALUES
              ('job-1', 5, 1), ('job-2', 1, 0), ('job-2', 2, 0), ('job-3', 9, 1), ('config-1', 4, 1), ('jobx', 1, 1)
            """);
    }

    [Fact]
    public async Task A_sweep_removes_every_jobs_row_marked_deleted_and_nothing_else()
    {
        var removed = await DeletedJournalRows.OnSqlite(ConnectionString).RemoveAllAsync(JobPersistenceIds.Prefix, CancellationToken.None);

        Assert.Equal(2, removed);
        Assert.Equal(["config-1:4", "job-2:1", "job-2:2", "jobx:1"], Rows());
    }

    [Fact]
    public async Task One_jobs_removal_touches_only_that_jobs_rows_marked_deleted()
    {
        var removed = await DeletedJournalRows.OnSqlite(ConnectionString).RemoveAsync(JobPersistenceIds.Of(1), CancellationToken.None);

        Assert.Equal(1, removed);
        Assert.Equal(["config-1:4", "job-2:1", "job-2:2", "job-3:9", "jobx:1"], Rows());
    }

    [Fact]
    public async Task Before_the_journal_made_its_table_there_is_nothing_to_remove()
    {
        var empty = $"Data Source={Path.Combine(Path.GetTempPath(), $"blip-journal-{Guid.NewGuid():N}.db")};Pooling=False;Mode=Memory";

        Assert.Equal(0, await DeletedJournalRows.OnSqlite(empty).RemoveAllAsync(JobPersistenceIds.Prefix, CancellationToken.None));
    }

    public void Dispose() => File.Delete(_file);

    private List<string> Rows()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT persistence_id || ':' || sequence_number FROM journal ORDER BY persistence_id, sequence_number";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
