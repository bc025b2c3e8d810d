using Blip.Actors.Inspection;
using Npgsql;

namespace Blip.Actors.Hosting;

/// <summary>
/// Fails the controller fast when its PostgreSQL journal cannot be reached: Akka.Persistence.Sql only logs an init
/// failure and lets every ask time out, so the executable opens a connection once (the readiness check's
/// <see cref="JournalStore.ProbeAsync"/>) before the actor system starts.
/// The message names host, port, database and user, never the password.
/// </summary>
public static class JournalConnectivity
{
    /// <summary>Throws <see cref="InvalidOperationException"/> with one line when <c>Blip:Store</c> is postgres
    /// and a connection cannot be opened within <paramref name="timeout"/>.</summary>
    public static void EnsureReachable(BlipOptions options, TimeSpan timeout)
    {
        var journal = options.ForJournal();
        if (!journal.IsPostgres)
        {
            return;
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(journal.ConnectionString);
        }
        catch (ArgumentException e)
        {
            // The parser's message may quote the string, password included: name only the offending keyword.
            throw new InvalidOperationException($"Blip:ConnectionString is not a valid PostgreSQL connection string (bad keyword or value{(e.ParamName is { } p ? $" near '{p}'" : "")})");
        }

        var where = $"PostgreSQL journal at {builder.Host ?? "localhost"}:{builder.Port}, database '{builder.Database ?? builder.Username}', user '{builder.Username}'";
        builder.Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        builder.Pooling = false;
        // The driver's own timeout speaks first; the probe's deadline only guards against a hang past it.
        var reason = journal.With(builder.ConnectionString).ProbeAsync(timeout + TimeSpan.FromSeconds(5), CancellationToken.None).GetAwaiter().GetResult();
        if (reason is not null)
        {
            throw new InvalidOperationException($"cannot reach the {where}: {reason}");
        }
    }
}
