using System.Globalization;
using System.Text.Json.Nodes;
using Blip.Sandbox;
using Blip.Sandbox.Cli;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Postgres;
using Xunit.Abstractions;

namespace Blip.Actors.IntegrationTests.Cluster;

/// <summary>The cluster tests run alone: three controller processes each, and failure detection that CPU starvation
/// from parallel tests would turn into false unreachability.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}

/// <summary>
/// A Blip world with N real controller processes (the sandbox's <see cref="ControllerProcess"/>) sharing a private
/// PostgreSQL journal and forming one Akka.NET cluster. Everything lives under one temp dir, removed on dispose.
/// </summary>
public sealed class ClusterWorld : IAsyncDisposable
{
    public const string RunnerLabels = "self-hosted,blip";
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(60);

    // A later node's shard region registers with the coordinator up to a retry interval (2 s) after it is Up, and
    // nothing at INFO level says so; until then every new shard goes to the nodes already registered. The coordinator's
    // own list of regions (cluster sharding stats, as blipctl shows them) says when every node's has.
    private static readonly TimeSpan RegionRegistration = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly string _controllerDll;

    private ClusterWorld(string dir, PrivatePostgres postgres, string connectionString, SandboxWorld world, IReadOnlyList<ControllerNode> plan, string controllerDll, ITestOutputHelper output)
    {
        Dir = dir;
        Postgres = postgres;
        ConnectionString = connectionString;
        World = world;
        Plan = plan;
        _controllerDll = controllerDll;
        _output = output;
        Nodes = new ControllerProcess?[plan.Count];
    }

    public string Dir { get; }
    public PrivatePostgres Postgres { get; }
    public string ConnectionString { get; }
    public SandboxWorld World { get; }
    public IReadOnlyList<ControllerNode> Plan { get; }

    /// <summary>The current process of each node (a restart replaces it).</summary>
    public ControllerProcess?[] Nodes { get; }

    public GitHubSandboxClient GitHub => World.GitHubAdmin;

    /// <summary>Starts PostgreSQL (failing with one clear line when it is not installed), the world and
    /// <paramref name="nodes"/> controllers, and waits until every node has joined.</summary>
    public static async Task<ClusterWorld> StartAsync(ITestOutputHelper output, int nodes = 3, int vms = 4, IReadOnlyList<string>? repos = null)
    {
        repos ??= ["demo-org/demo-repo"];
        var controllerDll = Path.Combine(AppContext.BaseDirectory, ControllerProcess.ExecutableName);
        Assert.True(File.Exists(controllerDll), $"{controllerDll} is missing: the test project references Blip.Sandbox, which copies it");
        if (PrivatePostgres.FindServerBinaries() is null)
        {
            Assert.Fail("the cluster tests need the PostgreSQL server: run BLIP_NEED_POSTGRES=1 .ci/prereqs (or apt-get install postgresql)");
        }

        var dir = Path.Combine(Path.GetTempPath(), "blip-cluster-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        }
        // The journal's server and the emulators are independent: they come up side by side.
        var postgresStart = PrivatePostgres.StartAsync(Path.Combine(dir, "postgres"));
        var worldStart = SandboxWorld.StartAsync(new SandboxWorldOptions { StateDir = Path.Combine(dir, "world"), Vms = vms, Repos = repos });
        try
        {
            await Task.WhenAll(postgresStart, worldStart);
        }
        catch
        {
            if (worldStart.IsCompletedSuccessfully)
            {
                await worldStart.Result.DisposeAsync();
            }

            if (postgresStart.IsCompletedSuccessfully)
            {
                await postgresStart.Result.DisposeAsync();
            }

            throw;
        }

        var (postgres, world) = (postgresStart.Result, worldStart.Result);
        ClusterWorld? cluster = null;
        try
        {
            var connectionString = await postgres.CreateDatabaseAsync("blip");
            await world.WritePatAsync(world.Pat);
            await world.WriteActionsConfigAsync(RunnerLabels, string.Join(',', repos));
            var settings = new Dictionary<string, string>
            {
                // The periodic reconcile is the backstop; removal-triggered sweeps do the failover work.
                ["Blip__ReconcileInterval"] = "00:00:10",
            };
            cluster = new ClusterWorld(dir, postgres, connectionString, world, ControllerNode.Plan(nodes, connectionString, settings), controllerDll, output);
            for (var i = 0; i < nodes; i++)
            {
                cluster.Start(i);
            }
            // The nodes join while the pool's VMs boot; the tests queue jobs only once both are done.
            await Task.WhenAll(world.Pool.WaitForReadyAsync(vms, TimeSpan.FromSeconds(60)), cluster.WaitAllJoinedAsync());
            await cluster.WaitAllRegionsRegisteredAsync();
            return cluster;
        }
        catch
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
            else
            {
                await world.DisposeAsync();
                await postgres.DisposeAsync();
            }

            throw;
        }
    }

    public ControllerProcess Node(int index) => Nodes[index] ?? throw new InvalidOperationException($"node {index} is not running");

    public IEnumerable<ControllerProcess> Alive => Nodes.Where(n => n is { HasExited: false }).Cast<ControllerProcess>();

    /// <summary>Starts node <paramref name="index"/> (again), at the same address and on the same journal.</summary>
    public ControllerProcess Start(int index)
    {
        var process = ControllerProcess.Start(Plan[index], _controllerDll, Path.Combine(Dir, "world"), World);
        Nodes[index] = process;
        _output.WriteLine($"{Now()} node {index}: started pid {process.Pid} at {process.Address}");
        return process;
    }

    public async Task WaitAllJoinedAsync()
    {
        foreach (var node in Alive)
        {
            await node.WaitUntilJoinedAsync(JoinTimeout, CancellationToken.None);
        }
        // Every node Up in one cluster: the leader logs moving each of them to Up.
        await Deadline.UntilAsync(() => Alive.All(n => Alive.Any(l => l.ReadLog().Contains($"Leader is moving node [{n.Address}] to [Up]", StringComparison.Ordinal))),
            JoinTimeout, "every node moved to Up by a leader");
    }

    /// <summary>Waits until the shard coordinator knows every running node's job region (each gets new shards from then on).</summary>
    public async Task WaitAllRegionsRegisteredAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var first = Alive.First();
        await Deadline.UntilAsync(
            async () =>
            {
                try
                {
                    var stats = JsonNode.Parse(await http.GetStringAsync($"{first.ManagementUrl}/api/sharding/regions/job/stats"))!;
                    return stats["members"]!.AsArray().Select(m => m!["address"]!.GetValue<string>()).ToList();
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
                {
                    return [e.Message];
                }
            },
            regions => regions.Distinct().Count(r => r.StartsWith("akka", StringComparison.Ordinal)) == Alive.Count(),
            RegionRegistration, "the job region of every node registered with the shard coordinator");
    }

    /// <summary>The node whose current run started the poller singleton most recently (the one polling now).</summary>
    public ControllerProcess? PollerHost() =>
        Alive.Where(n => n.ReadLog().Contains(SingletonStarted("pollers"), StringComparison.Ordinal)).LastOrDefault();

    public static string SingletonStarted(string name) => $"Singleton manager started singleton actor [akka://blip/user/{name}/{name}]";

    /// <summary>Queues <paramref name="count"/> jobs round-robin over the repos and returns their ids.</summary>
    public async Task<IReadOnlyList<long>> QueueJobsAsync(int count, IReadOnlyList<string> repos, int durationSeconds)
    {
        var ids = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var job = await GitHub.QueueJobAsync(repos[i % repos.Count], ["self-hosted", "blip"], durationSeconds);
            ids.Add(job.JobId);
        }

        _output.WriteLine($"{Now()} queued {count} jobs: {string.Join(", ", ids)}");
        return ids;
    }

    /// <summary>Waits until every job is completed; fails naming the ones that are not.</summary>
    public async Task<IReadOnlyList<SandboxJob>> WaitAllCompletedAsync(IReadOnlyList<long> ids, TimeSpan timeout)
    {
        var jobs = await Deadline.UntilAsync(
            async () => (await GitHub.ListJobsAsync()).Where(j => ids.Contains(j.JobId)).ToList(),
            jobs => jobs.Count == ids.Count && jobs.All(j => j.Status == "completed"),
            timeout,
            "every job completed");
        _output.WriteLine($"{Now()} all {ids.Count} jobs completed");
        return jobs;
    }

    /// <summary>Waits until no VM carries a job session any more (every runner done, every VM released).</summary>
    public async Task<ClaimAudit> WaitNoVmClaimedAsync(TimeSpan timeout) =>
        await Deadline.UntilAsync(() => Task.FromResult(ClaimAudit.Of(World.VmAudit())), a => a.ClaimedNow.Count == 0, timeout, "no VM left claimed");

    public void Say(string line) => _output.WriteLine($"{Now()} {line}");

    public static string Now() => DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            if (node is null)
            {
                continue;
            }

            _output.WriteLine($"--- node {node.Index} log tail ({node.LogPath})");
            foreach (var line in node.ReadLog().Split('\n').Where(l => l.Contains(" warn:", StringComparison.Ordinal) || l.Contains(" fail:", StringComparison.Ordinal)).TakeLast(15))
            {
                _output.WriteLine(line.Length > 400 ? line[..400] : line);
            }
        }

        await Task.WhenAll(Nodes.Where(n => n is not null).Select(n => n!.DisposeAsync().AsTask()));
        await World.DisposeAsync();
        await Postgres.DisposeAsync();
        if (Environment.GetEnvironmentVariable("BLIP_KEEP_CLUSTER_DIR") == "1")
        {
            _output.WriteLine($"kept {Dir} (BLIP_KEEP_CLUSTER_DIR=1)");
            return;
        }

        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover under /tmp does no harm.
        }
    }
}
