using System.Text;
using System.Text.Json.Nodes;
using Blip.Actors.Config;
using Blip.Actors.Webhooks;
using Blip.Sandbox;
using Blip.Sandbox.Cli;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Shared;

namespace Blip.Actors.Benchmarks;

/// <summary>
/// One scenario's world for one profile: a fresh <see cref="SandboxWorld"/> (Kubernetes API, VM pool of real
/// sshd VMs, GitHub) configured as the spec says, and one fresh controller process (<c>blip-controller.dll</c>)
/// started with the profile's settings, measured through /proc.
/// </summary>
public sealed class BenchWorld : IAsyncDisposable
{
    public static readonly IReadOnlyList<string> RunnerLabels = ["self-hosted", "blip"];
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(90);

    private readonly string _stateDir;

    private BenchWorld(SandboxWorld world, ControllerProcess controller, string stateDir, Profile profile)
    {
        World = world;
        Controller = controller;
        Meter = new ProcessMeter(controller.Pid);
        _stateDir = stateDir;
        Profile = profile;
    }

    public SandboxWorld World { get; }
    public ControllerProcess Controller { get; }
    public ProcessMeter Meter { get; }
    public Profile Profile { get; }
    public GitHubSandboxClient GitHub => World.GitHubAdmin;

    /// <summary>The controller's SQLite journal (its data directory is <c>controller-0</c> of the world's state).</summary>
    public string JournalFile => Path.Combine(_stateDir, "controller-0", "blip-journal.db");

    public static async Task<BenchWorld> StartAsync(string stateRoot, string scenario, Profile profile, int vms, IReadOnlyList<string> repos, CancellationToken ct)
    {
        var controllerDll = ControllerProcess.FindExecutable()
            ?? throw new InvalidOperationException($"{ControllerProcess.ExecutableName} is not next to {AppContext.BaseDirectory}; build the benchmark project (it references Blip.Sandbox)");
        var stateDir = Path.Combine(stateRoot, $"{scenario}-{profile.Name}");
        if (Directory.Exists(stateDir))
        {
            Directory.Delete(stateDir, recursive: true);
        }

        var webhooks = profile.ReceivesWebhooks ? WebhookWiring.Create() : null;
        var world = await SandboxWorld.StartAsync(new SandboxWorldOptions
        {
            StateDir = stateDir,
            Vms = vms,
            Repos = repos,
            WebhookUrl = webhooks?.DeliveryUrl,
            WebhookSecret = webhooks?.Secret,
        }, ct);
        ControllerProcess? controller = null;
        try
        {
            await world.Pool.WaitForReadyAsync(vms, ReadyTimeout).WaitAsync(ct);
            // A budget no profile can reach in a run: the figures are the demand, not the governor's throttling.
            await world.GitHubAdmin.SetBudgetAsync(world.Pat, 1_000_000, ct: ct);
            await world.WritePatAsync(world.Pat, ct);
            await world.WriteActionsConfigAsync(string.Join(',', RunnerLabels), string.Join(',', repos), ct);
            if (webhooks is not null)
            {
                await world.UpsertSecretAsync(ControllerSecrets.WebhookSecretName, new Dictionary<string, byte[]> { [ControllerSecrets.WebhookSecretKey] = Encoding.UTF8.GetBytes(webhooks.Secret) }, ct);
            }

            var settings = webhooks is null ? profile : profile.With(new Dictionary<string, string> { ["Blip__WebhookUrl"] = webhooks.ListenUrl });
            controller = ControllerProcess.Start(ControllerNode.Plan(1, connectionString: null, settings.Settings)[0], controllerDll, stateDir, world);
            await controller.WaitUntilJoinedAsync(JoinTimeout, ct);
            if (webhooks is not null)
            {
                // A delivery before the receiver listens, or before it has the secret, is lost (the emulator tries once).
                await Deadline.UntilAsync(() => Task.FromResult(controller.ReadLog()), log => WebhookWiring.ReadyMarkers.All(m => log.Contains(m, StringComparison.Ordinal)),
                    JoinTimeout, "the webhook receiver to listen with its secret", ct);
            }

            return new BenchWorld(world, controller, stateDir, profile);
        }
        catch
        {
            if (controller is not null)
            {
                await controller.DisposeAsync();
            }

            await world.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kubernetes API requests so far, by verb (every client: the benchmark itself sends none while measuring).</summary>
    public IReadOnlyDictionary<string, long> KubeRequestsByVerb()
    {
        var stats = World.Kube.Stats();
        var byVerb = new Dictionary<string, long>(StringComparer.Ordinal) { ["total"] = stats["total"]!.GetValue<long>() };
        foreach (var (verb, n) in stats["byVerb"]!.AsObject())
        {
            byVerb[verb] = n!.GetValue<long>();
        }

        return byVerb;
    }

    /// <summary>Writes the controller made to Kubernetes objects (the audit; secrets' data is never in it).</summary>
    public int ControllerKubeWrites(DateTimeOffset from, DateTimeOffset to) =>
        World.Kube.Store.Audit.Count(a => a.User == Blip.Sandbox.Kubernetes.KubeApiEmulator.ControllerAuditUser && a.Time >= from && a.Time < to);

    /// <summary>Lines of the controller's log that contain <paramref name="marker"/>.</summary>
    public int CountLogLines(string marker)
    {
        using var stream = new FileStream(Controller.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var n = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>The value of one unlabelled series on the controller's <c>/metrics</c> (its management endpoint on
    /// loopback), or null while the endpoint does not answer or lacks it.</summary>
    public async Task<double?> MetricAsync(string series, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string text;
        try
        {
            text = await http.GetStringAsync($"{Controller.ManagementUrl}/metrics", ct);
        }
        catch (HttpRequestException)
        {
            return null;
        }

        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Copies the controller's log to the output directory; returns its file name.</summary>
    public string KeepLog(string outDir, string scenario)
    {
        var logs = Path.Combine(outDir, "logs");
        Directory.CreateDirectory(logs);
        var name = $"{scenario}-{Profile.Name}.log";
        try
        {
            File.Copy(Controller.LogPath, Path.Combine(logs, name), overwrite: true);
        }
        catch (IOException)
        {
            return "";
        }

        return Path.Combine("logs", name);
    }

    public async ValueTask DisposeAsync()
    {
        await Controller.DisposeAsync();
        await World.DisposeAsync();
        try
        {
            Directory.Delete(_stateDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A VM home still busy: the next run with this scenario wipes it.
        }
    }
}

/// <summary>
/// Webhooks on loopback for one world: the controller's receiver on a free port, the GitHub emulator delivering to
/// it, both knowing one random secret (the controller from Secret <c>github-webhook</c>). The secret is never printed.
/// </summary>
internal sealed record WebhookWiring(int Port, string Secret)
{
    /// <summary>What the controller logs once its receiver listens and once it has read the secret.</summary>
    public static readonly IReadOnlyList<string> ReadyMarkers = ["webhook receiver listening", "webhook secret loaded"];

    /// <summary>Where the controller's receiver listens (<c>Blip:WebhookUrl</c>).</summary>
    public string ListenUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Where the emulator posts <c>workflow_job</c> events.</summary>
    public Uri DeliveryUrl => new($"{ListenUrl}{WebhookReceiver.Path}");

    public static WebhookWiring Create() =>
        new(Blip.Sandbox.Shared.LoopbackPorts.Free(), Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));

    // A record prints its members; this one holds a secret.
    public override string ToString() => $"webhooks on {ListenUrl}";
}

/// <summary>Percentiles by the nearest-rank method.</summary>
public static class Stats
{
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The least-squares slope of <paramref name="points"/> (x in minutes), per minute; NaN with fewer than two x values.</summary>
    public static double SlopePerMinute(IReadOnlyList<(double Minutes, double Value)> points)
    {
        if (points.Select(p => p.Minutes).Distinct().Count() < 2)
        {
            return double.NaN;
        }

        var mx = points.Average(p => p.Minutes);
        var my = points.Average(p => p.Value);
        return points.Sum(p => (p.Minutes - mx) * (p.Value - my)) / points.Sum(p => (p.Minutes - mx) * (p.Minutes - mx));
    }

    public static void AddPickup(ProfileResult result, IReadOnlyList<double> seconds)
    {
        result.PickupSeconds = seconds.ToList();
        result.Figures[Figure.P50] = Percentile(seconds, 50);
        result.Figures[Figure.P90] = Percentile(seconds, 90);
        result.Figures[Figure.P99] = Percentile(seconds, 99);
        result.Figures[Figure.Max] = seconds.Count == 0 ? double.NaN : seconds.Max();
        result.Figures[Figure.Mean] = seconds.Count == 0 ? double.NaN : seconds.Average();
    }

    public static JsonObject ToJson(IReadOnlyDictionary<string, long> d)
    {
        var o = new JsonObject();
        foreach (var (k, v) in d)
        {
            o[k] = v;
        }

        return o;
    }
}
