using System.Data.Common;
using Blip.Actors.Shared;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Blip.Actors.Jobs;

/// <summary>
/// After <c>DeleteMessages</c>, Akka.Persistence.Sql still keeps a persistence id's highest row, marked deleted, so that
/// its sequence numbers never restart (its <c>Delete</c>: mark, then remove all but the highest). A job needs no such
/// continuity: a job forgotten is one that is never taken up again (<see cref="JobRetention"/>), and a new incarnation
/// recovers nothing either way. This removes that last row, so a forgotten job leaves nothing in the journal. Where the
/// journal is comes from the SQL journal's own configuration (connection string, provider, table and column names).
/// </summary>
public sealed class DeletedJournalRows
{
    private const string JournalPath = "akka.persistence.journal.sql";

    private readonly string _connectionString;
    private readonly bool _postgres;
    private readonly string _delete;
    private readonly string _deleteAll;

    private DeletedJournalRows(string connectionString, bool postgres, string table, string persistenceIdColumn, string deletedColumn)
    {
        _connectionString = connectionString;
        _postgres = postgres;
        _delete = $"DELETE FROM {table} WHERE {persistenceIdColumn} = @pid AND {deletedColumn} = @deleted";
        _deleteAll = $"DELETE FROM {table} WHERE {persistenceIdColumn} LIKE @prefix AND {deletedColumn} = @deleted";
    }

    /// <summary>From the SQL journal's configuration; null when the journal is not Akka.Persistence.Sql on SQLite or
    /// PostgreSQL (e.g. the in-memory journal of the actor tests).</summary>
    public static DeletedJournalRows? From(Akka.Configuration.Config config)
    {
        var journal = config.GetConfig(JournalPath);
        var provider = journal?.GetString("provider-name", "") ?? "";
        var connectionString = journal?.GetString("connection-string", "") ?? "";
        var postgres = provider.Contains("PostgreSQL", StringComparison.OrdinalIgnoreCase);
        if (journal is null || connectionString.Length == 0 || !(postgres || provider.Contains("SQLite", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var mapping = journal.GetString("table-mapping", "default");
        var table = journal.GetString($"{mapping}.journal.table-name", "journal");
        var schema = journal.GetString($"{mapping}.schema-name", "");
        return new DeletedJournalRows(
            connectionString,
            postgres,
            string.IsNullOrEmpty(schema) ? table : $"{schema}.{table}",
            journal.GetString($"{mapping}.journal.columns.persistence-id", "persistence_id"),
            journal.GetString($"{mapping}.journal.columns.deleted", "deleted"));
    }

    /// <summary>Removes the rows of <paramref name="persistenceId"/> marked deleted; returns how many.</summary>
    public Task<int> RemoveAsync(string persistenceId, CancellationToken ct) =>
        ExecuteAsync(_delete, "@pid", persistenceId, ct);

    /// <summary>Removes every row marked deleted of the persistence ids that start with <paramref name="prefix"/> (no
    /// wildcard of its own); returns how many. Catches a removal that failed or never ran (the node stopped between the
    /// delete and it).</summary>
    public Task<int> RemoveAllAsync(string prefix, CancellationToken ct) =>
        ExecuteAsync(_deleteAll, "@prefix", prefix + "%", ct);

    private async Task<int> ExecuteAsync(string sql, string name, string value, CancellationToken ct)
    {
        await using DbConnection connection = _postgres ? new NpgsqlConnection(_connectionString) : new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.With(name, value).With("@deleted", true);
        try
        {
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (DbException e) when (NoJournalYet(e))
        {
            return 0; // The journal creates its table on its first write: nothing was ever deleted.
        }
    }

    private static bool NoJournalYet(DbException e) => e switch
    {
        PostgresException p => p.SqlState == PostgresErrorCodes.UndefinedTable,
        SqliteException s => s.SqliteErrorCode == 1 && s.Message.Contains("no such table", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>For tests: the journal at <paramref name="connectionString"/> on SQLite, with the default table and columns.</summary>
    public static DeletedJournalRows OnSqlite(string connectionString) => new(connectionString, postgres: false, "journal", "persistence_id", "deleted");
}
