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
public sealed class VmPool : IAsyncDisposable
{
    public const string PoolLabel = "blip.io/pool";
    public const string HostKeyAnnotation = "blip.io/host-key";
    public const string ClientKeyAnnotation = "blip.io/client-key";
    public const string ClientKeySecret = "ssh-gateway-client-key";
    public const string RunnerExitedMarker = "runner-exited";
    public const string VmFinalizer = "kubevirt.io/virtualMachineControllerFinalize";
    public const string RevisionLabel = "kubevirt.io/vm-pool-revision-name";
    private const string PoolRevision = "6b7f9c5d4";
    private const string User = "kubevirt-pool";

    private static readonly SemaphoreSlim HostSetupGate = new(1, 1);

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
    private readonly string _poolUid = Guid.NewGuid().ToString();
    private int _count;
    private int _incarnations;

    private VmPool(KubeApiEmulator api, VmPoolOptions options, SshKeys.KeyPair clientKey, string runnerScriptPath)
    {
        _api = api;
        _options = options;
        _clientKey = clientKey;
        _runnerScriptPath = runnerScriptPath;
        _count = options.Count;
        _watch = api.Store.Watch(KubeResource.VirtualMachines, options.Namespace,
            Selector.ParseLabels($"{PoolLabel}={options.PoolName}"), api.Store.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            droppable: false);
    }

    public VmPoolOptions Options => _options;

    /// <summary>The client key pair whose private half is in Secret ssh-gateway-client-key.</summary>
    public SshKeys.KeyPair ClientKey => _clientKey;

    /// <summary>The pool's VMs whose sshd has been started (name, address, port, directory).</summary>
    public IReadOnlyList<VmInfo> Vms => _vms.Values.Select(v => v.Info).OfType<VmInfo>().OrderBy(v => v.Name, StringComparer.Ordinal).ToList();

    public static async Task<VmPool> StartAsync(KubeApiEmulator api, VmPoolOptions options, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(options.StateDir)) throw new ArgumentException("VmPoolOptions.StateDir is required", nameof(options));
        if (options.Count < 0) throw new ArgumentException("VmPoolOptions.Count must not be negative", nameof(options));
        if (!File.Exists("/usr/sbin/sshd")) throw new InvalidOperationException("the sandbox VMs need sshd: install openssh-server");

        var stateDir = Path.GetFullPath(options.StateDir);
        Directory.CreateDirectory(Path.Combine(stateDir, "vms"));
        // sshd reads authorized_keys as the runner user, and the runner runs the pool's script: both must reach them.
        LinuxUsers.SetMode(stateDir, Mode755);
        LinuxUsers.SetMode(Path.Combine(stateDir, "vms"), Mode755);
        for (var dir = Directory.GetParent(stateDir); dir is not null; dir = dir.Parent)
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0)
                throw new InvalidOperationException(
                    $"the VM pool's state dir {stateDir} must be reachable by user {options.RunnerUser}, but {dir.FullName} is not searchable by others (chmod o+x)");
        }
        await PrepareHostAsync(options, ct);

        var runnerScript = Path.Combine(stateDir, "run.sh");
        await File.WriteAllTextAsync(runnerScript, options.RunnerScript.ReplaceLineEndings("\n"), ct);
        LinuxUsers.SetMode(runnerScript, Mode755);

        var clientKey = await SshKeys.GenerateEd25519Async(Path.Combine(stateDir, "client_key"), $"blip-sandbox-{options.PoolName}", ct);
        WriteClientKeySecret(api, options.Namespace, clientKey);

        var pool = new VmPool(api, options with { StateDir = stateDir }, clientKey, runnerScript);
        pool._watchLoop = Task.Run(pool.WatchLoopAsync, CancellationToken.None);
        pool._markerLoop = Task.Run(pool.MarkerLoopAsync, CancellationToken.None);
        for (var i = 0; i < options.Count; i++) pool.Track(pool.CreateVmAsync());
        return pool;
    }

    /// <summary>Waits until at least <paramref name="count"/> pool VMs have a VMI with Ready=True.</summary>
    public async Task WaitForReadyAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var ready = ReadyVmNames().Count;
            if (ready >= count) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"pool {_options.PoolName}: {ready} of {count} VMs ready after {timeout}");
            await Task.Delay(25);
        }
    }

    /// <summary>Names of pool VMs whose VMI is Ready=True.</summary>
    public IReadOnlyList<string> ReadyVmNames() =>
        _api.Store.List(KubeResource.VirtualMachineInstances, _options.Namespace, Selector.ParseLabels($"{PoolLabel}={_options.PoolName}")).Items
            .Where(IsReady)
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
            if (count < _count) throw new ArgumentOutOfRangeException(nameof(count), count, $"pool {_options.PoolName} has {_count} VMs; it only scales up");
            add = count - _count;
            _count = count;
        }
        for (var i = 0; i < add; i++) Track(CreateVmAsync());
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
        foreach (var vm in _vms.Values) await vm.Lifetime.CancelAsync();
        try
        {
            await Task.WhenAll(_work.Keys).WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or KubeApiException or InvalidOperationException)
        {
            // Teardown below kills what is left either way.
        }
        foreach (var vm in _vms.Values) vm.Shutdown();
        _vms.Clear();
        _stopping.Dispose();
    }

    private async Task CreateVmAsync()
    {
        var store = _api.Store;
        var ns = _options.Namespace;
        string name;
        SandboxVm vm;
        lock (_scaleGate)
        {
            // KubeVirt's VirtualMachinePool (pkg/virt-controller/watch/pool/pool.go, calculateNewVMNames): <pool>-<index>,
            // the lowest index no VM holds (a terminating VM still holds its name). A name comes back seconds after its
            // VM is gone.
            var index = 0;
            while (_vms.ContainsKey(VmName(index)) || store.TryGet(KubeResource.VirtualMachines, ns, VmName(index)) is not null) index++;
            name = VmName(index);
            // Each incarnation of a name gets its own directory: nothing of the old VM's (a runner-exited marker) leaks in.
            vm = new SandboxVm(name, Path.Combine(_options.StateDir, "vms", $"{name}.{++_incarnations}"), _options, _clientKey.PublicKeyLine, _runnerScriptPath);
            _vms[name] = vm;
            vm.Uid = store.Create(KubeResource.VirtualMachines, ns, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["labels"] = new JsonObject
                    {
                        [PoolLabel] = _options.PoolName,
                        ["kubevirt.io/vmpool"] = _options.PoolName,
                        [RevisionLabel] = $"{_options.PoolName}-{PoolRevision}",
                    },
                    ["ownerReferences"] = new JsonArray(new JsonObject
                    {
                        ["apiVersion"] = "pool.kubevirt.io/v1beta1",
                        ["kind"] = "VirtualMachinePool",
                        ["name"] = _options.PoolName,
                        ["uid"] = _poolUid,
                        ["controller"] = true,
                        ["blockOwnerDeletion"] = true,
                    }),
                    ["finalizers"] = new JsonArray(VmFinalizer),
                },
                ["spec"] = new JsonObject
                {
                    ["runStrategy"] = "Always",
                    ["template"] = new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["labels"] = new JsonObject { [PoolLabel] = _options.PoolName } },
                        ["spec"] = new JsonObject { ["domain"] = new JsonObject { ["devices"] = new JsonObject() } },
                    },
                },
                ["status"] = new JsonObject { ["printableStatus"] = "Starting", ["ready"] = false, ["created"] = true },
            }, User)["metadata"]!["uid"]!.GetValue<string>();
        }

        try
        {
            var ct = vm.Lifetime.Token;
            if (_options.BootDelay > TimeSpan.Zero) await Task.Delay(_options.BootDelay, ct);
            await vm.BootAsync(ct);
            var address = vm.Info!.Address.ToString();

            store.Mutate(KubeResource.VirtualMachines, ns, name, o =>
            {
                var meta = o["metadata"]!.AsObject();
                if (meta["uid"]?.GetValue<string>() != vm.Uid) return; // the name is another VM's by now
                if (meta["annotations"] is not JsonObject annotations) meta["annotations"] = annotations = new JsonObject();
                annotations[HostKeyAnnotation] = vm.HostKey!.PublicKey;
                annotations[ClientKeyAnnotation] = _clientKey.PublicKeyLine;
                o["status"] = new JsonObject { ["printableStatus"] = "Running", ["ready"] = true, ["created"] = true };
            }, User);

            var vmi = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["labels"] = new JsonObject { [PoolLabel] = _options.PoolName, ["kubevirt.io/vmpool"] = _options.PoolName },
                    // KubeVirt's VM controller makes the VM the instance's controller (setupVMIFromVM, NewControllerRef).
                    ["ownerReferences"] = new JsonArray(new JsonObject
                    {
                        ["apiVersion"] = "kubevirt.io/v1",
                        ["kind"] = "VirtualMachine",
                        ["name"] = name,
                        ["uid"] = vm.Uid,
                        ["controller"] = true,
                        ["blockOwnerDeletion"] = true,
                    }),
                },
                ["spec"] = new JsonObject { ["domain"] = new JsonObject { ["devices"] = new JsonObject() } },
                ["status"] = VmiStatus("Running", ready: true, address),
            };
            if (store.TryGet(KubeResource.VirtualMachineInstances, ns, name) is null)
                store.Create(KubeResource.VirtualMachineInstances, ns, vmi, User);
            else
                store.Mutate(KubeResource.VirtualMachineInstances, ns, name, o => o["status"] = VmiStatus("Running", true, address), User);

            // Deleted while booting: the watch loop tore it down before the VMI existed; remove the VMI too.
            if (vm.Lifetime.IsCancellationRequested)
            {
                vm.Shutdown();
                DeleteVmi(name);
            }
        }
        catch (Exception e) when (e is OperationCanceledException || (e is KubeApiException { Code: 404 } && vm.Lifetime.IsCancellationRequested))
        {
            vm.Shutdown();
            DeleteVmi(name);
        }
    }

    private async Task WatchLoopAsync()
    {
        try
        {
            await foreach (var e in _watch.Events.ReadAllAsync(_stopping.Token))
            {
                // A delete of a VM with our finalizer sets deletionTimestamp (MODIFIED): stop the guest, remove the VMI,
                // then the finalizer, which lets the API server delete the VM (DELETED). Only then is its name free.
                var meta = e.Object["metadata"]!;
                var name = meta["name"]!.GetValue<string>();
                var terminating = e.Type == WatchEvent.Modified && meta["deletionTimestamp"] is not null;
                if (e.Type != WatchEvent.Deleted && !terminating) continue;
                var uid = meta["uid"]?.GetValue<string>();
                if (!_vms.TryGetValue(name, out var vm) || (vm.Uid is not null && vm.Uid != uid)) continue;
                if (!vm.Terminating)
                {
                    // KubeVirt's pool counts only VMs not being deleted: the replacement comes at once, and takes the
                    // lowest index free now (the terminating VM still holds its own name until it is gone).
                    vm.Terminating = true;
                    Track(CreateVmAsync());
                }
                if (terminating && _options.TerminationGracePeriod > TimeSpan.Zero) Track(TerminateAfterGraceAsync(vm, uid));
                else Terminate(vm, uid, removeFinalizer: terminating);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task MarkerLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                foreach (var vm in _vms.Values)
                {
                    if (vm.RunnerExited || vm.Address is null || !File.Exists(Path.Combine(vm.HomeDir, RunnerExitedMarker))) continue;
                    vm.RunnerExited = true;
                    MarkStopped(vm.Name, vm.Address.ToString());
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void MarkStopped(string name, string address)
    {
        try
        {
            _api.Store.Mutate(KubeResource.VirtualMachineInstances, _options.Namespace, name,
                o => o["status"] = VmiStatus("Succeeded", ready: false, address), User);
            _api.Store.Mutate(KubeResource.VirtualMachines, _options.Namespace, name,
                o => o["status"] = new JsonObject { ["printableStatus"] = "Stopped", ["ready"] = false, ["created"] = true }, User);
        }
        catch (KubeApiException e) when (e.Code == 404)
        {
            // Deleted meanwhile.
        }
    }

    /// <summary>Stops a deleted VM's guest, removes its VMI and (when it is terminating) the finalizer: the VM goes.</summary>
    private void Terminate(SandboxVm vm, string? uid, bool removeFinalizer)
    {
        if (!_vms.TryRemove(new KeyValuePair<string, SandboxVm>(vm.Name, vm))) return; // done already
        vm.Shutdown();
        DeleteVmi(vm.Name);
        if (removeFinalizer) RemoveFinalizer(vm.Name, uid);
    }

    /// <summary>A guest shutting down within its grace period: the VM is terminating while its VMI still runs.</summary>
    private async Task TerminateAfterGraceAsync(SandboxVm vm, string? uid)
    {
        try
        {
            await Task.Delay(_options.TerminationGracePeriod, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        Terminate(vm, uid, removeFinalizer: true);
    }

    private void RemoveFinalizer(string name, string? uid)
    {
        try
        {
            _api.Store.Mutate(KubeResource.VirtualMachines, _options.Namespace, name, o =>
            {
                if (o["metadata"]!["uid"]?.GetValue<string>() != uid) return;
                if (o["metadata"]!["finalizers"] is JsonArray finalizers)
                {
                    foreach (var f in finalizers.Where(f => f?.GetValue<string>() == VmFinalizer).ToList()) finalizers.Remove(f);
                }
            }, User);
        }
        catch (KubeApiException e) when (e.Code == 404)
        {
        }
    }

    private string VmName(int index) => $"{_options.PoolName}-{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private void DeleteVmi(string name)
    {
        try
        {
            _api.Store.Delete(KubeResource.VirtualMachineInstances, _options.Namespace, name, User);
        }
        catch (KubeApiException e) when (e.Code == 404)
        {
        }
    }

    private void Track(Task task)
    {
        _work.TryAdd(task, 0);
        task.ContinueWith(t =>
        {
            _work.TryRemove(t, out _);
            if (t.IsFaulted) Console.Error.WriteLine($"blip-sandbox: pool {_options.PoolName}: VM start failed: {t.Exception!.GetBaseException().Message}");
        }, TaskScheduler.Default);
    }

    private static JsonObject VmiStatus(string phase, bool ready, string address) => new()
    {
        ["phase"] = phase,
        ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
        ["interfaces"] = new JsonArray(new JsonObject { ["ipAddress"] = address, ["ipAddresses"] = new JsonArray(address), ["name"] = "default" }),
    };

    private static bool IsReady(JsonObject vmi) =>
        (vmi["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>()
        .Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True") == true;

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
            api.Store.Mutate(KubeResource.Secrets, ns, ClientKeySecret, o => o["data"] = data, User);
        }
    }

    /// <summary>
    /// Once per machine state, safe under concurrency (in-process gate, cross-process file lock): the
    /// runner user (unlocked, so sshd without PAM lets it in), /run/sshd, and the run.sh dispatcher.
    /// </summary>
    private static async Task PrepareHostAsync(VmPoolOptions options, CancellationToken ct)
    {
        await HostSetupGate.WaitAsync(ct);
        try
        {
            await using var hostLock = await AcquireFileLockAsync(Path.Combine(Path.GetTempPath(), "blip-sandbox-host-setup.lock"), ct);
            if (LinuxUsers.Find(options.RunnerUser) is null)
            {
                var add = await ProcessRunner.RunAsync("useradd", ["-m", "-p", "*", "-s", "/bin/bash", options.RunnerUser], ct: ct);
                if (add.ExitCode != 0 && LinuxUsers.Find(options.RunnerUser) is null) add.EnsureSuccess("useradd");
            }
            if (LinuxUsers.IsLocked(options.RunnerUser))
                (await ProcessRunner.RunAsync("usermod", ["-p", "*", options.RunnerUser], ct: ct)).EnsureSuccess("usermod");
            Directory.CreateDirectory("/run/sshd");
            LinuxUsers.SetMode("/run/sshd", Mode755);

            Directory.CreateDirectory(options.RunnerDir);
            await LinuxUsers.ChownAsync(options.RunnerDir, options.RunnerUser, ct: ct);
            var runSh = Path.Combine(options.RunnerDir, "run.sh");
            if (!File.Exists(runSh) || await File.ReadAllTextAsync(runSh, ct) != RunShDispatcher)
            {
                var temp = runSh + ".tmp-" + Environment.ProcessId;
                await File.WriteAllTextAsync(temp, RunShDispatcher, ct);
                LinuxUsers.SetMode(temp, Mode755);
                await LinuxUsers.ChownAsync(temp, options.RunnerUser, ct: ct);
                File.Move(temp, runSh, overwrite: true);
            }
        }
        finally
        {
            HostSetupGate.Release();
        }
    }

    /// <summary>The run.sh every sandbox VM shares: runs the script of the pool the calling VM belongs to.</summary>
    public const string RunShDispatcher = """
        #!/bin/bash
        # Installed by the Blip sandbox. Each sandbox VM's sshd exports BLIP_RUNNER_SCRIPT, the runner
        # script of the pool it belongs to; several pools can share this machine's runner user.
        exec "${BLIP_RUNNER_SCRIPT:?not a Blip sandbox VM session}" "$@"

        """;

    private static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }
        }
    }

    private const UnixFileMode Mode755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                         UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
}
