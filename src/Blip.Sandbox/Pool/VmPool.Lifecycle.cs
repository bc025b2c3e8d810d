using System.Text.Json.Nodes;
using Blip.Sandbox.Kubernetes;

namespace Blip.Sandbox.Pool;

/// <summary>A pool VM's life: created under the lowest free name and booted (its VM and VMI written as KubeVirt's would be),
/// stopped when its runner exits, torn down when deleted (a replacement at once, the finalizer removed last).</summary>
public sealed partial class VmPool
{
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
            while (_vms.ContainsKey(VmName(index)) || store.TryGet(KubeResource.VirtualMachines, ns, VmName(index)) is not null)
            {
                index++;
            }

            name = VmName(index);
            // Each incarnation of a name gets its own directory: nothing of the old VM's (a runner-exited marker) leaks in.
            vm = new SandboxVm(name, Path.Combine(_options.StateDir, "vms", $"{name}.{++_incarnations}"), _options with { RunnerVersion = RunnerVersion }, _clientKey.PublicKeyLine, _runnerScriptPath);
            _vms[name] = vm;
            vm.Uid = store.Create(KubeResource.VirtualMachines, ns, PoolObjects.VirtualMachine(name, _options.PoolName, _poolUid), User)["metadata"]!["uid"]!.GetValue<string>();
        }

        try
        {
            var ct = vm.Lifetime.Token;
            if (_options.BootDelay > TimeSpan.Zero)
            {
                await Task.Delay(_options.BootDelay, ct);
            }

            await vm.BootAsync(ct);
            var address = vm.Info!.Address.ToString();

            store.Mutate(KubeResource.VirtualMachines, ns, name, o =>
            {
                var meta = o["metadata"]!.AsObject();
                if (meta["uid"]?.GetValue<string>() != vm.Uid)
                {
                    return; // the name is another VM's by now
                }

                if (meta["annotations"] is not JsonObject annotations)
                {
                    meta["annotations"] = annotations = new JsonObject();
                }

                annotations[HostKeyAnnotation] = vm.HostKey!.PublicKey;
                annotations[ClientKeyAnnotation] = _clientKey.PublicKeyLine;
                o["status"] = PoolObjects.VmStatus("Running", ready: true);
            }, User);

            var vmi = PoolObjects.Instance(name, _options.PoolName, vm.Uid, address);
            if (store.TryGet(KubeResource.VirtualMachineInstances, ns, name) is null)
            {
                store.Create(KubeResource.VirtualMachineInstances, ns, vmi, User);
            }
            else
            {
                store.Mutate(KubeResource.VirtualMachineInstances, ns, name, o => o["status"] = PoolObjects.VmiStatus("Running", true, address), User);
            }

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
                if (e.Type != WatchEvent.Deleted && !terminating)
                {
                    continue;
                }

                var uid = meta["uid"]?.GetValue<string>();
                if (!_vms.TryGetValue(name, out var vm) || (vm.Uid is not null && vm.Uid != uid))
                {
                    continue;
                }

                if (!vm.Terminating)
                {
                    // KubeVirt's pool counts only VMs not being deleted: the replacement comes at once, and takes the
                    // lowest index free now (the terminating VM still holds its own name until it is gone).
                    vm.Terminating = true;
                    Track(CreateVmAsync());
                }
                if (terminating && _options.TerminationGracePeriod > TimeSpan.Zero)
                {
                    Track(TerminateAfterGraceAsync(vm, uid));
                }
                else
                {
                    Terminate(vm, uid, removeFinalizer: terminating);
                }
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
                    if (vm.RunnerExited || vm.Address is null || !File.Exists(Path.Combine(vm.HomeDir, RunnerExitedMarker)))
                    {
                        continue;
                    }

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
                o => o["status"] = PoolObjects.VmiStatus("Succeeded", ready: false, address), User);
            _api.Store.Mutate(KubeResource.VirtualMachines, _options.Namespace, name,
                o => o["status"] = PoolObjects.VmStatus("Stopped", ready: false), User);
        }
        catch (KubeApiException e) when (e.Code == 404)
        {
            // Deleted meanwhile.
        }
    }

    /// <summary>Stops a deleted VM's guest, removes its VMI and (when it is terminating) the finalizer: the VM goes.</summary>
    private void Terminate(SandboxVm vm, string? uid, bool removeFinalizer)
    {
        if (!_vms.TryRemove(new KeyValuePair<string, SandboxVm>(vm.Name, vm)))
        {
            return; // done already
        }

        vm.Shutdown();
        DeleteVmi(vm.Name);
        if (removeFinalizer)
        {
            RemoveFinalizer(vm.Name, uid);
        }
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
                if (o["metadata"]!["uid"]?.GetValue<string>() != uid)
                {
                    return;
                }

                if (o["metadata"]!["finalizers"] is JsonArray finalizers)
                {
                    foreach (var f in finalizers.Where(f => f?.GetValue<string>() == VmFinalizer).ToList())
                    {
                        finalizers.Remove(f);
                    }
                }
            }, User);
        }
        catch (KubeApiException e) when (e.Code == 404)
        {
        }
    }

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
}
