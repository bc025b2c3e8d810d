using System.Net.Sockets;
using Npgsql;

namespace Blip.Actors.Hosting;

/// <summary>
/// Fails the controller fast when its PostgreSQL journal cannot be reached: Akka.Persistence.Sql only logs an init
/// failure and lets every ask time out, so the connection is opened once before the actor system starts.
/// The message names host, port, database and user, never the password.
/// </summary>
public static class JournalConnectivity
{
    /// <summary>Throws <see cref="InvalidOperationException"/> with one line when <c>Blip:Store</c> is postgres
    /// and a connection cannot be opened within <paramref name="timeout"/>.</summary>
    public static void EnsureReachable(BlipOptions options, TimeSpan timeout)
    {
        if (options.Store != "postgres")
        {
            return;
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException e)
        {
            // The parser's message may quote the string, password included: name only the offending keyword.
            throw new InvalidOperationException($"Blip:ConnectionString is not a valid PostgreSQL connection string (bad keyword or value{(e.ParamName is { } p ? $" near '{p}'" : "")})");
        }

        var where = $"PostgreSQL journal at {builder.Host ?? "localhost"}:{builder.Port}, database '{builder.Database ?? builder.Username}', user '{builder.Username}'";
        builder.Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        builder.Pooling = false;
        try
        {
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("SELECT 1", connection);
            command.ExecuteScalar();
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidOperationException($"cannot reach the {where}: {Reason(e, builder.Password)}");
        }
    }

    private static string Reason(Exception e, string? password)
    {
        // The innermost cause says it best ("Connection refused", "28P01: password authentication failed for user …").
        var reason = e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            reason = inner is PostgresException ipg ? $"{ipg.SqlState}: {ipg.MessageText}" : inner.Message;
        }

        reason = reason.ReplaceLineEndings(" ").Trim();
        return string.IsNullOrEmpty(password) ? reason : reason.Replace(password, "***", StringComparison.Ordinal);
    }
}
