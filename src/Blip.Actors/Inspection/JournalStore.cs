using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Blip.Actors.Inspection;

/// <summary>
/// Where the journal lives (<c>Blip:Store</c>, <c>Blip:ConnectionString</c>, <c>Blip:DataDir</c>) and the one probe that
/// opens it: the start-up check and the readiness check both ask <see cref="ProbeAsync"/>. Never printed whole: the
/// connection string may hold a password.
/// </summary>
public sealed class JournalStore
{
    private JournalStore(bool isPostgres, string connectionString, string provider)
    {
        IsPostgres = isPostgres;
        ConnectionString = connectionString;
        Provider = provider;
    }

    public bool IsPostgres { get; }

    /// <summary>The connection string the journal and the probe open (may hold a password: never log it).</summary>
    public string ConnectionString { get; }

    /// <summary>The linq2db provider name.</summary>
    public string Provider { get; }

    /// <summary>PostgreSQL when <paramref name="store"/> is <c>postgres</c>, else the SQLite file under <paramref name="dataDir"/>.</summary>
    public static JournalStore From(string store, string? connectionString, string dataDir) =>
        store == "postgres"
            ? new JournalStore(true, connectionString!, LinqToDB.ProviderName.PostgreSQL15)
            : new JournalStore(false, $"Data Source={Path.GetFullPath(Path.Combine(dataDir, "blip-journal.db"))};Pooling=True", LinqToDB.ProviderName.SQLiteMS);

    /// <summary>
    /// SQLite only: puts the database in write-ahead-log mode (kept in the file, so once is enough). In SQLite's default
    /// rollback mode a write locks readers out and a read locks the writer out, and the busy handler waits in sleeps: 50 job
    /// actors recovering (reads) while others persist (writes) were sighted over 38 s instead of at once (the benchmark's
    /// <c>capacity</c> scenario). In WAL mode readers and the one writer go side by side.
    /// </summary>
    public void UseWriteAheadLog()
    {
        if (IsPostgres)
        {
            return;
        }

        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"the SQLite journal stayed in journal mode '{mode}' (WAL needs a local file system that supports shared memory); set Blip:DataDir to a local directory");
        }
    }

    /// <summary>The same store reached through another connection string (e.g. unpooled, with a connect timeout).</summary>
    public JournalStore With(string connectionString) => new(IsPostgres, connectionString, Provider);

    /// <summary>Opens a connection and runs <c>SELECT 1</c> within <paramref name="timeout"/>: null when that worked, else why
    /// not, with the connection string's password blanked (the reason reaches /healthz, which needs no token).</summary>
    public async Task<string?> ProbeAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await using var connection = CreateConnection();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            await connection.OpenAsync(deadline.Token).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(deadline.Token).ConfigureAwait(false);
            return null;
        }
        catch (ArgumentException)
        {
            return "the journal's connection string is not valid"; // the parser's message may quote it, password included
        }
        catch (Exception e) when (e is DbException or OperationCanceledException or TimeoutException or InvalidOperationException or IOException or SocketException)
        {
            return Redacted(Reason(e));
        }
    }

    /// <summary>A new, closed connection to the journal's database.</summary>
    public DbConnection CreateConnection() => IsPostgres ? new NpgsqlConnection(ConnectionString) : new SqliteConnection(ConnectionString);

    public override string ToString() => IsPostgres ? "PostgreSQL journal" : "SQLite journal";

    // The innermost cause says it best ("Connection refused", "28P01: password authentication failed for user …").
    private static string Reason(Exception e)
    {
        var reason = Describe(e);
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            reason = Describe(inner);
        }

        return reason.ReplaceLineEndings(" ").Trim();
    }

    private static string Describe(Exception e) => e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : e.Message;

    private string Redacted(string reason)
    {
        var password = IsPostgres ? PasswordOf(ConnectionString) : null;
        return string.IsNullOrEmpty(password) ? reason : reason.Replace(password, "***", StringComparison.Ordinal);
    }

    private static string? PasswordOf(string connectionString)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString).Password;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
