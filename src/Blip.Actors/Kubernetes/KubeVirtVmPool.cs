using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Blip.Actors.Hosting;
using Blip.Actors.Vms;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Kubernetes;

/// <summary><see cref="IVmPool"/> on KubeVirt VirtualMachines and VirtualMachineInstances.</summary>
public sealed class KubeVirtVmPool(IKubernetes client, BlipOptions options, ILogger<KubeVirtVmPool> logger) : IVmPool
{
    private string Ns => options.Namespace;
    private string PoolSelector => $"{VmAnnotations.PoolLabel}={options.Pool}";

    public async Task<ClaimOutcome> TryClaimAsync(VmView vm, IReadOnlyDictionary<string, string> annotations, CancellationToken ct)
    {
        var source = (VirtualMachine)vm.Source;
        // Work on a copy: the cached object is shared with the inventory.
        var copy = KubernetesJson.Deserialize<VirtualMachine>(KubernetesJson.Serialize(source));
        copy.Metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var (key, value) in annotations)
        {
            copy.Metadata.Annotations[key] = value;
        }

        try
        {
            await client.CustomObjects.ReplaceNamespacedCustomObjectAsync(
                copy, VirtualMachine.Group, VirtualMachine.Version, Ns, VirtualMachine.Plural, vm.Name, cancellationToken: ct).ConfigureAwait(false);
            return ClaimOutcome.Claimed;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return ClaimOutcome.Conflict;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return ClaimOutcome.Gone;
        }
    }

    public async Task<bool> AnnotateAsync(string vmName, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct)
    {
        var patch = new V1Patch(
            JsonSerializer.Serialize(new { metadata = new { annotations } }),
            V1Patch.PatchType.MergePatch);
        try
        {
            await client.CustomObjects.PatchNamespacedCustomObjectAsync(
                patch, VirtualMachine.Group, VirtualMachine.Version, Ns, VirtualMachine.Plural, vmName, cancellationToken: ct).ConfigureAwait(false);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task ReleaseAsync(string vmName, CancellationToken ct)
    {
        if (!await AnnotateAsync(vmName, new Dictionary<string, string?> { [VmAnnotations.Release] = "true" }, ct).ConfigureAwait(false))
        {
            return; // Already deleted (Blip's deallocation controller may have been first).
        }

        try
        {
            await client.CustomObjects.DeleteNamespacedCustomObjectAsync(
                VirtualMachine.Group, VirtualMachine.Version, Ns, VirtualMachine.Plural, vmName, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Deleted meanwhile: the same end state.
        }
    }

    public async IAsyncEnumerable<VmPoolChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var merged = System.Threading.Channels.Channel.CreateUnbounded<VmPoolChange>(new() { SingleReader = true });
        var vmNames = new HashSet<string>();
        var vmiNames = new HashSet<string>();
        var gate = new object();
        bool vmsListed = false, vmisListed = false;

        async Task PumpVms()
        {
            await foreach (var item in ListWatch.Run("virtualmachines", ListVms, WatchVms, vm => vm.Metadata.ResourceVersion, logger, ct).ConfigureAwait(false))
            {
                switch (item)
                {
                    case ListWatchItem<VirtualMachine>.Listed listed:
                        lock (gate)
                        {
                            vmNames = listed.Items.Select(v => v.Metadata.Name).ToHashSet();
                            foreach (var vm in listed.Items)
                            {
                                merged.Writer.TryWrite(ToChange(vm));
                            }

                            vmsListed = true;
                            merged.Writer.TryWrite(new VmPoolChange.Resynced(vmNames.ToHashSet(), vmiNames.ToHashSet(), vmsListed && vmisListed));
                        }

                        break;
                    case ListWatchItem<VirtualMachine>.Changed { Type: WatchEventType.Deleted } deleted:
                        merged.Writer.TryWrite(new VmPoolChange.VmDeleted(deleted.Item.Metadata.Name));
                        break;
                    case ListWatchItem<VirtualMachine>.Changed changed:
                        merged.Writer.TryWrite(ToChange(changed.Item));
                        break;
                }
            }
        }

        async Task PumpVmis()
        {
            await foreach (var item in ListWatch.Run("virtualmachineinstances", ListVmis, WatchVmis, vmi => vmi.Metadata.ResourceVersion, logger, ct).ConfigureAwait(false))
            {
                switch (item)
                {
                    case ListWatchItem<VirtualMachineInstance>.Listed listed:
                        lock (gate)
                        {
                            vmiNames = listed.Items.Select(v => v.Metadata.Name).ToHashSet();
                            foreach (var vmi in listed.Items)
                            {
                                merged.Writer.TryWrite(ToChange(vmi));
                            }

                            vmisListed = true;
                            merged.Writer.TryWrite(new VmPoolChange.Resynced(vmNames.ToHashSet(), vmiNames.ToHashSet(), vmsListed && vmisListed));
                        }

                        break;
                    case ListWatchItem<VirtualMachineInstance>.Changed { Type: WatchEventType.Deleted } deleted:
                        merged.Writer.TryWrite(new VmPoolChange.VmiDeleted(deleted.Item.Metadata.Name));
                        break;
                    case ListWatchItem<VirtualMachineInstance>.Changed changed:
                        merged.Writer.TryWrite(ToChange(changed.Item));
                        break;
                }
            }
        }

        var pumps = Task.WhenAll(Task.Run(PumpVms, ct), Task.Run(PumpVmis, ct));
        _ = pumps.ContinueWith(_ => merged.Writer.TryComplete(), TaskScheduler.Default);
        await foreach (var change in merged.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            yield return change;
        }
    }

    private static VmPoolChange ToChange(VirtualMachine vm) =>
        new VmPoolChange.VmUpserted(
            vm.Metadata.Name,
            vm.Metadata.ResourceVersion ?? "",
            vm.Metadata.Annotations is { } a ? new Dictionary<string, string>(a) : new Dictionary<string, string>(),
            vm.Metadata.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>(),
            vm);

    private static VmPoolChange ToChange(VirtualMachineInstance vmi) =>
        new VmPoolChange.VmiUpserted(vmi.Metadata.Name, vmi.Status?.Ready == true, vmi.Status?.Address, vmi.Status?.Phase);

    private Task<(IReadOnlyList<VirtualMachine>, string)> ListVms(CancellationToken ct) =>
        ListAsync<VirtualMachine>(VirtualMachine.Plural, PoolSelector, ct);

    private Task<(IReadOnlyList<VirtualMachineInstance>, string)> ListVmis(CancellationToken ct) =>
        ListAsync<VirtualMachineInstance>(VirtualMachineInstance.Plural, null, ct);

    private async Task<(IReadOnlyList<T>, string)> ListAsync<T>(string plural, string? selector, CancellationToken ct)
    {
        var raw = await client.CustomObjects.ListNamespacedCustomObjectAsync(
            VirtualMachine.Group, VirtualMachine.Version, Ns, plural, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false);
        var list = KubernetesJson.Deserialize<CustomObjectList<T>>(((JsonElement)raw).GetRawText());
        return (list.Items, list.Metadata?.ResourceVersion ?? "0");
    }

    private IAsyncEnumerable<(WatchEventType, VirtualMachine)> WatchVms(string rv, Action<Exception> onError, CancellationToken ct) =>
        WatchAsync<VirtualMachine>(VirtualMachine.Plural, PoolSelector, rv, onError, ct);

    private IAsyncEnumerable<(WatchEventType, VirtualMachineInstance)> WatchVmis(string rv, Action<Exception> onError, CancellationToken ct) =>
        WatchAsync<VirtualMachineInstance>(VirtualMachineInstance.Plural, null, rv, onError, ct);

    private async IAsyncEnumerable<(WatchEventType, T)> WatchAsync<T>(string plural, string? selector, string rv, Action<Exception> onError, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var (type, item) in client.CustomObjects.WatchListNamespacedCustomObjectAsync(
                           VirtualMachine.Group, VirtualMachine.Version, Ns, plural,
                           allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: 300,
                           onError: onError, cancellationToken: ct).ConfigureAwait(false))
        {
            var json = item is JsonElement element ? element.GetRawText() : KubernetesJson.Serialize(item);
            yield return (type, KubernetesJson.Deserialize<T>(json));
        }
    }
}
