using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Blip.Sandbox.Kubernetes;
using Blip.Sandbox.Pool;
using k8s;
using Renci.SshNet;

namespace Blip.Actors.IntegrationTests.Infrastructure;

/// <summary>
/// The Kubernetes half of the sandbox for a test class: an API emulator on loopback HTTPS and a VM pool
/// of real sshd VMs, in a private temp state dir, with a kubeconfig and its own kubectl cache.
/// Use as IClassFixture&lt;KubeWorld&gt; (2 VMs) or <see cref="StartAsync"/> for other sizes.
/// </summary>
public class KubeWorld : IAsyncLifetime, IAsyncDisposable
{
    private readonly int _vmCount;
    private readonly Func<VmPoolOptions, VmPoolOptions> _configurePool;
    private readonly KubeApiEmulatorOptions _apiOptions;

    public KubeWorld() : this(2)
    {
    }

    private KubeWorld(int vmCount, Func<VmPoolOptions, VmPoolOptions>? configurePool = null, KubeApiEmulatorOptions? apiOptions = null)
    {
        _vmCount = vmCount;
        _configurePool = configurePool ?? (o => o);
        _apiOptions = apiOptions ?? new KubeApiEmulatorOptions();
    }

    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public KubeApiEmulator Api { get; private set; } = null!;
    public VmPool Pool { get; private set; } = null!;
    public string StateDir { get; private set; } = null!;
    public string KubeconfigPath { get; private set; } = null!;
    public string KubectlCacheDir { get; private set; } = null!;
    public k8s.Kubernetes Admin { get; private set; } = null!;
    public string Namespace => Pool.Options.Namespace;

    public static async Task<KubeWorld> StartAsync(int vmCount, Func<VmPoolOptions, VmPoolOptions>? configurePool = null, KubeApiEmulatorOptions? apiOptions = null)
    {
        var world = new KubeWorld(vmCount, configurePool, apiOptions);
        await world.InitializeAsync();
        return world;
    }

    public async Task InitializeAsync()
    {
        StateDir = Directory.CreateTempSubdirectory("blip-kube-").FullName;
        // The VMs' runner user reads authorized_keys and runs the runner script below it.
        Blip.Sandbox.Shared.LinuxUsers.SetMode(StateDir, (UnixFileMode)0b111_101_101);
        Api = await KubeApiEmulator.StartAsync(_apiOptions);
        KubeconfigPath = Api.WriteKubeconfig(Path.Combine(StateDir, "kubeconfig"));
        KubectlCacheDir = Path.Combine(StateDir, "kube-cache");
        Admin = Api.CreateClient();
        Pool = await VmPool.StartAsync(Api, _configurePool(new VmPoolOptions { Count = _vmCount, StateDir = Path.Combine(StateDir, "pool") }));
        await Pool.WaitForReadyAsync(_vmCount, Deadline);
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (Pool is not null)
        {
            await Pool.DisposeAsync();
        }

        if (Api is not null)
        {
            await Api.DisposeAsync();
        }

        try
        {
            Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    /// <summary>A ready (VMI Ready=True) pool VM: its object and where its sshd listens.</summary>
    public async Task<(JsonObject Vm, VmInfo Info)> ReadyVmAsync(Func<string, bool>? except = null)
    {
        var name = await Blip.Sandbox.Shared.Deadline.EventuallyAsync(
            () => Task.FromResult(Pool.ReadyVmNames().FirstOrDefault(n => !(except?.Invoke(n) ?? false))), Deadline, "a ready VM");
        var vm = Api.Store.Get(KubeResource.VirtualMachines, Namespace, name);
        return (vm, Pool.Vms.Single(v => v.Name == name));
    }

    /// <summary>The private key from Secret ssh-gateway-client-key, read through the API like the controller does.</summary>
    public async Task<PrivateKeyFile> ClientKeyAsync()
    {
        var secret = await Admin.CoreV1.ReadNamespacedSecretAsync(VmPool.ClientKeySecret, Namespace);
        return new PrivateKeyFile(new MemoryStream(secret.Data["client_key"]));
    }

    /// <summary>An SSH.NET client for user runner that trusts only <paramref name="pinnedHostKey"/> ("ssh-ed25519 AAAA...").</summary>
    public static SshClient PinnedSshClient(IPAddress address, int port, PrivateKeyFile key, string pinnedHostKey)
    {
        var expected = Convert.FromBase64String(pinnedHostKey.Split(' ')[1]);
        var client = new SshClient(new ConnectionInfo(address.ToString(), port, "runner", new PrivateKeyAuthenticationMethod("runner", key))
        {
            Timeout = TimeSpan.FromSeconds(10),
        });
        client.HostKeyReceived += (_, e) => e.CanTrust = CryptographicOperations.FixedTimeEquals(e.HostKey, expected);
        return client;
    }

    public static string HostKeyOf(JsonObject vm) => vm["metadata"]!["annotations"]![VmPool.HostKeyAnnotation]!.GetValue<string>();

    /// <summary>Runs a bash command line with this world's kubeconfig and kubectl cache.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> BashAsync(string commandLine, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(commandLine);
        psi.Environment["KUBECONFIG"] = KubeconfigPath;
        psi.Environment["KUBECACHEDIR"] = KubectlCacheDir;
        psi.Environment["HOME"] = StateDir;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Deadline);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>PIDs of processes whose environment holds <paramref name="entry"/> (e.g. "BLIP_VM_NAME=blip-abcde").</summary>
    public static IReadOnlyList<int> ProcessesWithEnvironment(string entry)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "environ"))).Split('\0').Contains(entry))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }
}
