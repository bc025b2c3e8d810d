using Blip.Actors.Hosting;
using Blip.Sandbox;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Kubernetes;
using k8s;

namespace Blip.Actors.IntegrationTests.Harness;

/// <summary>A sandbox world plus a controller running in this process against it, with a private state dir.</summary>
public sealed class PipelineWorld : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);

    private PipelineWorld(SandboxWorld sandbox, string stateDir, int? webhookPort, byte[]? webhookSecret)
    {
        Sandbox = sandbox;
        StateDir = stateDir;
        WebhookPort = webhookPort;
        WebhookSecret = webhookSecret;
    }

    /// <summary>Where the controller's webhook receiver listens, when the world was started with webhooks.</summary>
    public int? WebhookPort { get; }

    public byte[]? WebhookSecret { get; }

    public SandboxWorld Sandbox { get; }

    public string StateDir { get; }

    public ControllerHost? Controller { get; private set; }

    public CapturedLog Log => Controller?.Log ?? throw new InvalidOperationException("no controller started");

    public GitHubSandboxClient GitHub => Sandbox.GitHubAdmin;

    /// <param name="webhooks">"emulator": the GitHub emulator delivers signed workflow_job events to the controller;
    /// "manual": the receiver runs but only the test sends deliveries; null: no webhooks.</param>
    /// <param name="terminationGrace">How long a deleted VM stays terminating with its VMI running (the pool's guest shutdown).</param>
    /// <param name="extraPools">Pools besides the default one, with their VM count (<see cref="SandboxWorldOptions.ExtraPools"/>).</param>
    public static async Task<PipelineWorld> StartAsync(int vms = 2, string[]? repos = null, bool configure = true, string? webhooks = null, TimeSpan? terminationGrace = null,
        IReadOnlyDictionary<string, int>? extraPools = null)
    {
        var stateDir = Directory.CreateTempSubdirectory("blip-pipeline-").FullName;
        repos ??= ["org/repo"];
        int? webhookPort = webhooks is null ? null : ControllerHost.FreePort();
        var webhookSecret = webhooks is null ? null : System.Text.Encoding.UTF8.GetBytes(Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        var sandbox = await SandboxWorld.StartAsync(new SandboxWorldOptions
        {
            StateDir = stateDir,
            Vms = vms,
            Repos = repos,
            WebhookUrl = webhooks == "emulator" ? new Uri($"http://127.0.0.1:{webhookPort}/webhooks/github") : null,
            WebhookSecret = webhooks == "emulator" ? System.Text.Encoding.UTF8.GetString(webhookSecret!) : null,
            TerminationGracePeriod = terminationGrace ?? TimeSpan.Zero,
            ExtraPools = extraPools ?? new Dictionary<string, int>(),
        });
        await sandbox.Pool.WaitForReadyAsync(vms, TimeSpan.FromSeconds(30));
        foreach (var (name, count) in extraPools ?? new Dictionary<string, int>())
        {
            await sandbox.ExtraPools[name].WaitForReadyAsync(count, TimeSpan.FromSeconds(30));
        }

        var world = new PipelineWorld(sandbox, stateDir, webhookPort, webhookSecret);
        if (configure)
        {
            await sandbox.WritePatAsync(sandbox.Pat);
            await sandbox.WriteActionsConfigAsync("self-hosted,blip", string.Join(",", repos));
        }

        if (webhookSecret is not null)
        {
            await sandbox.UpsertSecretAsync("github-webhook", new Dictionary<string, byte[]> { ["secret"] = webhookSecret });
        }

        return world;
    }

    public BlipOptions ControllerOptions(Action<BlipOptions>? tweak = null)
    {
        var options = new BlipOptions
        {
            Namespace = Sandbox.Namespace,
            Pool = Sandbox.Options.PoolName,
            GitHubApiUrl = Sandbox.GitHub.Url.ToString(),
            Kubeconfig = Sandbox.ControllerKubeconfig,
            SshPort = Sandbox.Options.SshPort,
            DataDir = Path.Combine(StateDir, "controller-data"),
            ClusterPort = ControllerHost.FreePort(),
            NodeName = "test-node-0",
            PollInterval = TimeSpan.FromMilliseconds(500),
            IdleRunnerGrace = TimeSpan.FromSeconds(4),
            RunnerCheckInterval = TimeSpan.FromSeconds(1),
            QueuedSightingTimeout = TimeSpan.FromSeconds(10),
            ManagementUrl = "http://127.0.0.1:0", // tests run in parallel: never the fixed default port
            WebhookUrl = WebhookPort is { } port ? $"http://127.0.0.1:{port}" : null,
        };
        tweak?.Invoke(options);
        return options;
    }

    public async Task<ControllerHost> StartControllerAsync(Action<BlipOptions>? tweak = null)
    {
        if (Controller is not null)
        {
            throw new InvalidOperationException("a controller is already running");
        }

        var log = new CapturedLog(Path.Combine(StateDir, $"controller-{DateTime.UtcNow:HHmmssfff}.log"));
        Controller = await ControllerHost.StartAsync(ControllerOptions(tweak), log);
        return Controller;
    }

    private Blip.Sandbox.Cli.ControllerNode? _controllerNode;

    /// <summary>The controller as its own process (as the sandbox runs it), on this world's state dir: killable with SIGKILL
    /// and restartable on the same journal by starting it again.</summary>
    /// <param name="settings">More <c>Blip__*</c> settings for the process (kept for its restarts).</param>
    public async Task<Blip.Sandbox.Cli.ControllerProcess> StartControllerProcessAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var dll = Blip.Sandbox.Cli.ControllerProcess.FindExecutable() ?? throw new InvalidOperationException("blip-controller.dll is not next to the tests");
        _controllerNode ??= Blip.Sandbox.Cli.ControllerNode.Plan(1, connectionString: null, settings)[0];
        var process = Blip.Sandbox.Cli.ControllerProcess.Start(_controllerNode, dll, StateDir, Sandbox);
        await process.WaitUntilJoinedAsync(Deadline, CancellationToken.None);
        return process;
    }

    /// <summary>Stops the controller (as a crash-free stop at an arbitrary point); the journal stays in the state dir.</summary>
    public async Task StopControllerAsync()
    {
        if (Controller is { } controller)
        {
            Controller = null;
            await controller.DisposeAsync();
        }
    }

    /// <summary>The GitHub emulator's request counts (a method group for <see cref="Blip.Sandbox.Shared.Deadline"/>).</summary>
    public Task<SandboxStats> StatsAsync() => GitHub.GetStatsAsync();

    public async Task<SandboxJob> WaitForJobAsync(long jobId, Func<SandboxJob, bool> done, string what, TimeSpan? timeout = null) =>
        (await Blip.Sandbox.Shared.Deadline.UntilAsync(() => GitHub.GetJobAsync(jobId), j => j is not null && done(j), timeout ?? Deadline, $"job {jobId}: {what}"))!;

    /// <summary>Claims (updates that set a session) per session id, from the API's audit: one per VM (uid; pool names are reused).</summary>
    public IReadOnlyList<AuditEntry> ClaimsOf(long jobId) =>
        Sandbox.VmAudit()
            .Where(a => a.Verb == "update" && a.Annotations.GetValueOrDefault("blip.io/session-id") == $"actions-{jobId}")
            .GroupBy(a => a.Uid)
            .Select(g => g.First())
            .ToList();

    /// <summary>VMs that still carry an actions session and have not been asked to release.</summary>
    public async Task<IReadOnlyList<string>> ClaimedVmsAsync()
    {
        var raw = await Sandbox.KubeAdmin.CustomObjects.ListNamespacedCustomObjectAsync("kubevirt.io", "v1", Sandbox.Namespace, "virtualmachines");
        var json = System.Text.Json.Nodes.JsonNode.Parse(((System.Text.Json.JsonElement)raw).GetRawText())!;
        return json["items"]!.AsArray()
            .Where(vm => vm!["metadata"]?["annotations"]?["blip.io/session-id"]?.GetValue<string>() is { } s && s.StartsWith("actions-", StringComparison.Ordinal))
            .Select(vm => vm!["metadata"]!["name"]!.GetValue<string>())
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        // BLIP_TEST_LOG_DIR=<dir>: each world's in-process controller log is kept there (a failed test's story).
        if (Controller is not null && Environment.GetEnvironmentVariable("BLIP_TEST_LOG_DIR") is { Length: > 0 } logDir)
        {
            Directory.CreateDirectory(logDir);
            await File.WriteAllLinesAsync(Path.Combine(logDir, $"{Path.GetFileName(StateDir)}.log"), Controller.Log.Lines);
        }

        await StopControllerAsync();
        await Sandbox.DisposeAsync();
        if (Environment.GetEnvironmentVariable("BLIP_KEEP_STATE") != "1")
        {
            try
            {
                Directory.Delete(StateDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
