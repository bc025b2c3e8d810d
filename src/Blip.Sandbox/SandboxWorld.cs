using System.Text;
using Blip.Sandbox.FakeRunner;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Kubernetes;
using Blip.Sandbox.Pool;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Blip.Sandbox;

public sealed record SandboxWorldOptions
{
    public required string StateDir { get; init; }
    public int Vms { get; init; } = 3;
    public IReadOnlyList<string> Repos { get; init; } = ["demo-org/demo-repo"];
    public int SshPort { get; init; } = 22;
    public TimeSpan BootDelay { get; init; } = TimeSpan.Zero;

    /// <summary><see cref="Pool.VmPoolOptions.TerminationGracePeriod"/>.</summary>
    public TimeSpan TerminationGracePeriod { get; init; } = TimeSpan.Zero;
    public string Namespace { get; init; } = "blip";
    public string PoolName { get; init; } = "blip";

    /// <summary>Pools besides <see cref="PoolName"/>, by name, with their VM count: jobs can be routed to them (key
    /// <c>pools</c> of ConfigMap github-actions). Their VMs trust the same client key. None by default.</summary>
    public IReadOnlyDictionary<string, int> ExtraPools { get; init; } = new Dictionary<string, int>();
    public Uri? WebhookUrl { get; init; }
    public string? WebhookSecret { get; init; }
}

/// <summary>
/// The whole emulated Blip world on loopback: the Kubernetes API (HTTPS), the KubeVirt pool of real-sshd VMs
/// running the fake runner, and GitHub. Used by the sandbox executable, the integration tests and the benchmarks.
/// </summary>
public sealed class SandboxWorld : IAsyncDisposable
{
    private SandboxWorld(SandboxWorldOptions options, KubeApiEmulator kube, VmPool pool, IReadOnlyDictionary<string, VmPool> extraPools, GitHubEmulator gitHub, string pat)
    {
        Options = options;
        Kube = kube;
        Pool = pool;
        ExtraPools = extraPools;
        GitHub = gitHub;
        Pat = pat;
        AdminKubeconfig = kube.WriteKubeconfig(Path.Combine(options.StateDir, "kubeconfig"));
        ControllerKubeconfig = kube.WriteKubeconfig(Path.Combine(options.StateDir, "controller.kubeconfig"), kube.ControllerToken);
        KubeAdmin = kube.CreateClient();
        GitHubAdmin = gitHub.CreateAdminClient();
    }

    public SandboxWorldOptions Options { get; }
    public KubeApiEmulator Kube { get; }
    public VmPool Pool { get; }

    /// <summary>The pools of <see cref="SandboxWorldOptions.ExtraPools"/>, by name.</summary>
    public IReadOnlyDictionary<string, VmPool> ExtraPools { get; }
    public GitHubEmulator GitHub { get; }
    public GitHubSandboxClient GitHubAdmin { get; }
    public k8s.Kubernetes KubeAdmin { get; }

    /// <summary>A PAT with Actions read and Administration write on every repo.</summary>
    public string Pat { get; }

    /// <summary>Admin credentials, for kubectl and people.</summary>
    public string AdminKubeconfig { get; }

    /// <summary>The controller's credentials: the ServiceAccount bound to the Role in k8s/.</summary>
    public string ControllerKubeconfig { get; }

    public string Namespace => Options.Namespace;

    public static async Task<SandboxWorld> StartAsync(SandboxWorldOptions options, CancellationToken ct = default)
    {
        Directory.CreateDirectory(options.StateDir);
        if (!OperatingSystem.IsWindows())
        {
            // sshd reads each VM's authorized_keys as user runner: every directory above it must be traversable.
            File.SetUnixFileMode(options.StateDir, (UnixFileMode)0b111_101_101);
        }

        var kube = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { Namespaces = [options.Namespace] }, ct);
        VmPool? pool = null;
        var extraPools = new Dictionary<string, VmPool>(StringComparer.Ordinal);
        try
        {
            pool = await VmPool.StartAsync(kube, new VmPoolOptions
            {
                Count = options.Vms,
                Namespace = options.Namespace,
                PoolName = options.PoolName,
                SshPort = options.SshPort,
                StateDir = Path.Combine(options.StateDir, "pool"),
                BootDelay = options.BootDelay,
                TerminationGracePeriod = options.TerminationGracePeriod,
                RunnerScript = FakeRunnerScript.Content,
            }, ct);
            foreach (var (name, count) in options.ExtraPools)
            {
                extraPools[name] = await VmPool.StartAsync(kube, pool.Options with
                {
                    Count = count,
                    PoolName = name,
                    StateDir = Path.Combine(options.StateDir, "pool-" + name),
                    ClientKey = pool.ClientKey,
                    PoolObject = true,
                }, ct);
            }

            var gitHub = await GitHubEmulator.StartAsync(new GitHubEmulatorOptions
            {
                Repos = options.Repos,
                WebhookUrl = options.WebhookUrl,
                WebhookSecret = options.WebhookSecret,
            }, ct);
            var pat = gitHub.CreateToken(new CreateTokenRequest(["*"]));
            return new SandboxWorld(options, kube, pool, extraPools, gitHub, pat);
        }
        catch
        {
            foreach (var extra in extraPools.Values)
            {
                await extra.DisposeAsync();
            }

            if (pool is not null)
            {
                await pool.DisposeAsync();
            }

            await kube.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes Secret <c>github-pat</c> (key <c>token</c>), as the spec's kubectl command does.</summary>
    public Task WritePatAsync(string token, CancellationToken ct = default) =>
        UpsertSecretAsync("github-pat", new Dictionary<string, byte[]> { ["token"] = Encoding.UTF8.GetBytes(token) }, ct);

    /// <summary>Writes ConfigMap <c>github-actions</c>, as the spec's kubectl command does.</summary>
    public Task WriteActionsConfigAsync(string runnerLabels, string repos, CancellationToken ct = default) =>
        UpsertConfigMapAsync("github-actions", new Dictionary<string, string> { ["runner-labels"] = runnerLabels, ["repos"] = repos }, ct);

    public async Task UpsertSecretAsync(string name, IDictionary<string, byte[]> data, CancellationToken ct = default)
    {
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Data = data, Type = "Opaque" };
        try
        {
            await KubeAdmin.CoreV1.ReplaceNamespacedSecretAsync(secret, name, Namespace, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            await KubeAdmin.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: ct);
        }
    }

    public async Task UpsertConfigMapAsync(string name, IDictionary<string, string> data, CancellationToken ct = default)
    {
        var map = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Data = data };
        try
        {
            await KubeAdmin.CoreV1.ReplaceNamespacedConfigMapAsync(map, name, Namespace, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            await KubeAdmin.CoreV1.CreateNamespacedConfigMapAsync(map, Namespace, cancellationToken: ct);
        }
    }

    public async Task DeleteSecretAsync(string name, CancellationToken ct = default)
    {
        try
        {
            await KubeAdmin.CoreV1.DeleteNamespacedSecretAsync(name, Namespace, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }
    }

    public async Task DeleteConfigMapAsync(string name, CancellationToken ct = default)
    {
        try
        {
            await KubeAdmin.CoreV1.DeleteNamespacedConfigMapAsync(name, Namespace, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>Every write to a VM the API saw: the claims, provisioned marks, releases and deletes.</summary>
    public IReadOnlyList<AuditEntry> VmAudit() =>
        Kube.Store.Audit.Where(a => a.Resource == "virtualmachines").ToList();

    public async ValueTask DisposeAsync()
    {
        GitHubAdmin.Dispose();
        KubeAdmin.Dispose();
        await GitHub.DisposeAsync();
        foreach (var extra in ExtraPools.Values)
        {
            await extra.DisposeAsync();
        }

        await Pool.DisposeAsync();
        await Kube.DisposeAsync();
    }
}
