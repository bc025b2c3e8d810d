using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Blip.Sandbox.Kubernetes;
using Blip.Sandbox.Shared;

namespace Blip.Sandbox.Pool;

/// <summary>
/// A KubeVirt VirtualMachinePool whose VMs are real sshd processes on their own loopback addresses.
/// Keeps <see cref="VmPoolOptions.Count"/> VMs named like KubeVirt's (<c>&lt;pool&gt;-&lt;index&gt;</c>, lowest free index:
/// names are reused), each with KubeVirt's finalizer: a VM deleted through the API is replaced at once, then torn down
/// (sshd and everything its sessions started are killed), its VMI removed, and its finalizer removed so it goes.
/// Writes its objects through the emulator's store, so they get resourceVersions, watch events and audit entries.
/// See Kubernetes/README.md.
/// </summary>
/// <remarks>
/// <c>VmPool.Lifecycle.cs</c> holds a VM's life (create, boot, stop, tear down), <see cref="PoolObjects"/> the VM and VMI
/// objects it writes, <see cref="PoolHost"/> what the machine needs first (runner user, sshd's run dir, the shared run.sh,
/// the client key) and <see cref="SandboxVm"/> each VM's own sshd.
/// </remarks>
public sealed partial class VmPool : IAsyncDisposable
{
    public const string PoolLabel = "blip.io/pool";
    public const string HostKeyAnnotation = "blip.io/host-key";
    public const string ClientKeyAnnotation = "blip.io/client-key";
    public const string ClientKeySecret = "ssh-gateway-client-key";
    public const string RunnerExitedMarker = "runner-exited";
    public const string VmFinalizer = "kubevirt.io/virtualMachineControllerFinalize";
    public const string RevisionLabel = "kubevirt.io/vm-pool-revision-name";
    private const string User = "kubevirt-pool";

    private readonly KubeApiEmulator _api;
    private readonly VmPoolOptions _options;
    private readonly SshKeys.KeyPair _clientKey;
    private readonly string _runnerScriptPath;
    private readonly ConcurrentDictionary<string, SandboxVm> _vms = new();
    private readonly ConcurrentDictionary<Task, byte> _work = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly WatchSubscription _watch;
    private Task _watchLoop = Task.CompletedTask;
    private Task _markerLoop = Task.CompletedTask;
    private readonly Lock _scaleGate = new();
    private string _poolUid = Guid.NewGuid().ToString();
    private int _count;
    private int _incarnations;

    private VmPool(KubeApiEmulator api, VmPoolOptions options, SshKeys.KeyPair clientKey, string runnerScriptPath)
    {
        _api = api;
        _options = options;
        RunnerVersion = options.RunnerVersion;
        _clientKey = clientKey;
        _runnerScriptPath = runnerScriptPath;
        _count = options.Count;
        _watch = api.Store.Watch(KubeResource.VirtualMachines, options.Namespace,
            Selector.ParseLabels($"{PoolLabel}={options.PoolName}"), api.Store.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            droppable: false);
    }

    public VmPoolOptions Options => _options;

    /// <summary>The runner version of VMs made from now on (<see cref="VmPoolOptions.RunnerVersion"/> at first): setting it
    /// is rebuilding the image; VMs that exist keep theirs.</summary>
    public string RunnerVersion { get; set; }

    /// <summary>The client key pair whose private half is in Secret ssh-gateway-client-key.</summary>
    public SshKeys.KeyPair ClientKey => _clientKey;

    /// <summary>The pool's VMs whose sshd has been started (name, address, port, directory).</summary>
    public IReadOnlyList<VmInfo> Vms => _vms.Values.Select(v => v.Info).OfType<VmInfo>().OrderBy(v => v.Name, StringComparer.Ordinal).ToList();

    public static async Task<VmPool> StartAsync(KubeApiEmulator api, VmPoolOptions options, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(options.StateDir))
        {
            throw new ArgumentException("VmPoolOptions.StateDir is required", nameof(options));
        }

        if (options.Count < 0)
        {
            throw new ArgumentException("VmPoolOptions.Count must not be negative", nameof(options));
        }

        var host = await PoolHost.PrepareAsync(options, ct);
        WriteClientKeySecret(api, options.Namespace, host.ClientKey);

        var pool = new VmPool(api, options with { StateDir = host.StateDir }, host.ClientKey, host.RunnerScriptPath);
        if (options.PoolObject)
        {
            pool._poolUid = api.Store.Create(KubeResource.VirtualMachinePools, options.Namespace, PoolObjects.VirtualMachinePool(options.PoolName, options.Count), User)
                ["metadata"]!["uid"]!.GetValue<string>();
        }

        pool._watchLoop = Task.Run(pool.WatchLoopAsync, CancellationToken.None);
        pool._markerLoop = Task.Run(pool.MarkerLoopAsync, CancellationToken.None);
        for (var i = 0; i < options.Count; i++)
        {
            pool.Track(pool.CreateVmAsync());
        }

        return pool;
    }

    /// <summary>Waits until at least <paramref name="count"/> pool VMs have a VMI with Ready=True.</summary>
    public async Task WaitForReadyAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var ready = ReadyVmNames().Count;
            if (ready >= count)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"pool {_options.PoolName}: {ready} of {count} VMs ready after {timeout}");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>Names of pool VMs whose VMI is Ready=True.</summary>
    public IReadOnlyList<string> ReadyVmNames() =>
        _api.Store.List(KubeResource.VirtualMachineInstances, _options.Namespace, Selector.ParseLabels($"{PoolLabel}={_options.PoolName}")).Items
            .Where(PoolObjects.IsReady)
            .Select(o => o["metadata"]!["name"]!.GetValue<string>())
            .Where(_vms.ContainsKey)
            .ToList();

    /// <summary>Raises the pool's VM count (a VirtualMachinePool's <c>spec.replicas</c> going up): the new VMs are created now,
    /// and every VM deleted later is replaced as before.</summary>
    public void ScaleUp(int count)
    {
        int add;
        lock (_scaleGate)
        {
            if (count < _count)
            {
                throw new ArgumentOutOfRangeException(nameof(count), count, $"pool {_options.PoolName} has {_count} VMs; it only scales up");
            }

            add = count - _count;
            _count = count;
        }
        for (var i = 0; i < add; i++)
        {
            Track(CreateVmAsync());
        }
    }

    public async Task SetMisbehaviourAsync(string vmName, VmMisbehaviour misbehaviour, CancellationToken ct = default)
    {
        var vm = _vms.GetValueOrDefault(vmName) ?? throw new ArgumentException($"pool {_options.PoolName} has no VM {vmName}", nameof(vmName));
        await vm.SetMisbehaviourAsync(misbehaviour, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _watch.Dispose();
        await Task.WhenAll(_watchLoop, _markerLoop);
        foreach (var vm in _vms.Values)
        {
            await vm.Lifetime.CancelAsync();
        }

        try
        {
            await Task.WhenAll(_work.Keys).WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or KubeApiException or InvalidOperationException)
        {
            // Teardown below kills what is left either way.
        }
        foreach (var vm in _vms.Values)
        {
            vm.Shutdown();
        }

        _vms.Clear();
        _stopping.Dispose();
    }

    private string VmName(int index) => $"{_options.PoolName}-{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private void Track(Task task)
    {
        _work.TryAdd(task, 0);
        task.ContinueWith(t =>
        {
            _work.TryRemove(t, out _);
            if (t.IsFaulted)
            {
                Console.Error.WriteLine($"blip-sandbox: pool {_options.PoolName}: VM start failed: {t.Exception!.GetBaseException().Message}");
            }
        }, TaskScheduler.Default);
    }

    private static void WriteClientKeySecret(KubeApiEmulator api, string ns, SshKeys.KeyPair key)
    {
        var data = new JsonObject { ["client_key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(key.PrivateKey)) };
        try
        {
            api.Store.Create(KubeResource.Secrets, ns, new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = ClientKeySecret, ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "blip-sandbox" } },
                ["type"] = "Opaque",
                ["data"] = data,
            }, User);
        }
        catch (KubeApiException e) when (e.Code == 409)
        {
            api.Store.Mutate(KubeResource.Secrets, ns, ClientKeySecret, o => o["data"] = data.DeepClone(), User); // data is the failed create's child already
        }
    }
}
