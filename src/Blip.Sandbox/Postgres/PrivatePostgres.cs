using System.Globalization;
using Blip.Sandbox.Shared;
using Npgsql;

namespace Blip.Sandbox.Postgres;

/// <summary>
/// A throwaway PostgreSQL server of our own: <c>initdb</c> into <c>DIR/data</c> (trust auth, loopback only), a
/// postmaster on 127.0.0.1 and a free port with its socket in <c>DIR/socket</c>, never the host's own cluster.
/// PostgreSQL refuses to run as root: as root every tool runs as user <c>postgres</c> (<c>runuser</c>).
/// Disposing stops the server (immediate mode) and deletes <c>DIR</c>.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string ServiceUser = "postgres";
    private readonly string _bin;
    private readonly bool _runAsServiceUser;

    private PrivatePostgres(string dir, string bin, int port, bool runAsServiceUser)
    {
        Directory = dir;
        _bin = bin;
        Port = port;
        _runAsServiceUser = runAsServiceUser;
    }

    /// <summary>Everything of this server: <c>data/</c>, <c>socket/</c>, <c>postgres.log</c>.</summary>
    public string Directory { get; }

    public int Port { get; }

    public string DataDir => Path.Combine(Directory, "data");

    public string LogPath => Path.Combine(Directory, "postgres.log");

    /// <summary>Where the PostgreSQL server binaries are (<c>/usr/lib/postgresql/N/bin</c>, the newest), or null.</summary>
    public static string? FindServerBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!System.IO.Directory.Exists(root))
        {
            return null;
        }

        return System.IO.Directory.EnumerateDirectories(root)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0))
            .Where(d => File.Exists(Path.Combine(d.Dir, "postgres")) && File.Exists(Path.Combine(d.Dir, "initdb")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Dir)
            .FirstOrDefault();
    }

    /// <summary>Creates and starts a server in <paramref name="dir"/> (created; must not hold another server).
    /// Throws <see cref="InvalidOperationException"/> with one line when PostgreSQL is missing or does not start.</summary>
    public static async Task<PrivatePostgres> StartAsync(string dir, CancellationToken ct = default)
    {
        var bin = FindServerBinaries()
            ?? throw new InvalidOperationException("the PostgreSQL server is not installed (no /usr/lib/postgresql/*/bin/postgres); install it first: apt-get install postgresql");
        var asRoot = Environment.UserName == "root";
        dir = Path.GetFullPath(dir);
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "socket"));
        var server = new PrivatePostgres(dir, bin, FreeLoopbackPort(), asRoot);
        try
        {
            if (asRoot && !OperatingSystem.IsWindows())
            {
                // The postgres user must reach DIR (every parent traversable: we change no mode outside DIR) and own DIR.
                foreach (var parent in Parents(dir))
                {
                    if (!File.GetUnixFileMode(parent).HasFlag(UnixFileMode.OtherExecute))
                    {
                        throw new InvalidOperationException($"user {ServiceUser} cannot reach {dir}: {parent} is not traversable by others (chmod o+x it, or use a directory under /tmp)");
                    }
                }

                File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
                (await ProcessRunner.RunAsync("chown", ["-R", $"{ServiceUser}:", dir], ct: ct)).EnsureSuccess($"chown {dir} to {ServiceUser}");
            }

            (await server.RunToolAsync("initdb", ["-D", server.DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], TimeSpan.FromSeconds(90), ct))
                .EnsureSuccess("initdb");
            // Throwaway data: no fsync. Loopback only, our own socket directory, enough connections for a few nodes' pools.
            var options = $"-p {server.Port} -k {Path.Combine(dir, "socket")} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
            var start = await server.RunToolAsync("pg_ctl", ["-D", server.DataDir, "-l", server.LogPath, "-o", options, "-w", "-t", "60", "start"], TimeSpan.FromSeconds(90), ct);
            if (start.ExitCode != 0)
            {
                throw new InvalidOperationException($"PostgreSQL did not start (pg_ctl exit {start.ExitCode}); see {server.LogPath}: {LastLine(server.LogPath)}");
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The connection string of database <paramref name="database"/> as superuser <c>postgres</c> (no password: trust on loopback).</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = ServiceUser, Database = database, Timeout = 5 }.ConnectionString;

    /// <summary>Creates an empty database (a name of letters, digits and '_') and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException($"database name '{name}' must be lower-case letters, digits and '_'", nameof(name));
        }

        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync(ct);
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDir, "postmaster.pid")))
        {
            try
            {
                await RunToolAsync("pg_ctl", ["-D", DataDir, "-m", "immediate", "-w", "-t", "30", "stop"], TimeSpan.FromSeconds(40), CancellationToken.None);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
                // Deleting the data directory below makes a surviving postmaster shut itself down.
            }
        }

        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover under a temp or state dir does no harm.
        }
    }

    private Task<ProcessRunner.Result> RunToolAsync(string tool, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var path = Path.Combine(_bin, tool);
        return _runAsServiceUser
            ? ProcessRunner.RunAsync("runuser", ["-u", ServiceUser, "--", path, .. args], timeout, ct)
            : ProcessRunner.RunAsync(path, args, timeout, ct);
    }

    private static IEnumerable<string> Parents(string dir)
    {
        for (var d = Path.GetDirectoryName(dir); !string.IsNullOrEmpty(d) && d != "/"; d = Path.GetDirectoryName(d))
        {
            yield return d;
        }
    }

    private static string LastLine(string path)
    {
        try
        {
            return File.ReadLines(path).LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "(empty log)";
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    private static int FreeLoopbackPort() => Blip.Sandbox.Shared.LoopbackPorts.Free();
}
