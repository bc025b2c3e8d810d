using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Blip.Actors.Vms;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Kubernetes;

/// <summary><see cref="IVmPool"/> on KubeVirt VirtualMachines and VirtualMachineInstances.</summary>
public sealed class KubeVirtVmPool(IKubernetes client, KubernetesOptions options, ILogger<KubeVirtVmPool> logger) : IVmPool
{
    private string Ns => options.Namespace;
    // Every pool's VMs: jobs may be routed to pools other than the default one (key pools of ConfigMap github-actions), which
    // can change at any time; the inventory tells the pools apart by this label.
    private static string PoolSelector => VmAnnotations.PoolLabel;

    public async Task<ClaimOutcome> TryClaimAsync(VmView vm, IReadOnlyDictionary<string, string> annotations, CancellationToken ct)
    {
        var source = (vm.Source as KubeVirtVmSource ?? throw new ArgumentException($"VM {vm.Name} was not listed by this pool adapter", nameof(vm))).Vm;
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

    public async Task<bool> AnnotateAsync(string vmName, string? vmUid, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct) =>
        await GuardedPatchAsync(vmName, vmUid, sessionId: null, annotations, ct).ConfigureAwait(false) is not null;

    public async Task ReleaseAsync(string vmName, string? vmUid, string sessionId, CancellationToken ct)
    {
        // Only while the name is still this VM (uid) and the VM still carries this job's session.
        var patched = await GuardedPatchAsync(vmName, vmUid, sessionId, new Dictionary<string, string?> { [VmAnnotations.Release] = "true" }, ct).ConfigureAwait(false);
        if (patched is null)
        {
            return; // Already deleted (Blip's deallocation controller may have been first), or no longer ours.
        }

        try
        {
            await client.CustomObjects.DeleteNamespacedCustomObjectAsync(
                VirtualMachine.Group, VirtualMachine.Version, Ns, VirtualMachine.Plural, vmName,
                body: new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = patched } }, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Deleted meanwhile (404), or the name is a new VM's already (409, the uid precondition): the same end state.
        }
    }

    /// <summary>
    /// A JSON patch that first tests the VM's uid (and, for a release, its session), then sets or removes annotations.
    /// Returns the uid of the VM patched, or null when it is gone (404) or a test failed (422): the name is another VM's
    /// now, or the VM is no longer this job's. Pool VM names are reused (KubeVirt's VirtualMachinePool), so a write by
    /// name alone could land on a VM claimed by another job.
    /// </summary>
    private async Task<string?> GuardedPatchAsync(string vmName, string? vmUid, string? sessionId, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct)
    {
        var ops = new List<object>();
        if (!string.IsNullOrEmpty(vmUid))
        {
            ops.Add(new { op = "test", path = "/metadata/uid", value = vmUid });
        }

        if (sessionId is not null)
        {
            ops.Add(new { op = "test", path = "/metadata/annotations/" + Escape(VmAnnotations.SessionId), value = sessionId });
        }

        foreach (var (key, value) in annotations)
        {
            ops.Add(value is null
                ? new { op = "remove", path = "/metadata/annotations/" + Escape(key) }
                : new { op = "add", path = "/metadata/annotations/" + Escape(key), value });
        }

        try
        {
            var raw = await client.CustomObjects.PatchNamespacedCustomObjectAsync(
                new V1Patch(JsonSerializer.Serialize(ops), V1Patch.PatchType.JsonPatch),
                VirtualMachine.Group, VirtualMachine.Version, Ns, VirtualMachine.Plural, vmName, cancellationToken: ct).ConfigureAwait(false);
            var uid = raw is JsonElement e && e.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("uid", out var u) ? u.GetString() : null;
            return uid ?? vmUid ?? "";
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity)
        {
            if (e.Response.StatusCode == HttpStatusCode.UnprocessableEntity)
            {
                logger.LogInformation("VM {Vm}: not written ({Annotations}): it is no longer the VM this job claimed (uid or session changed)", vmName, string.Join(",", annotations.Keys));
            }

            return null;
        }
    }

    /// <summary>RFC 6901: '~' and '/' in a JSON pointer segment.</summary>
    private static string Escape(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    public Task RecordEventAsync(string vmName, string? vmUid, VmEvent vmEvent, CancellationToken ct) =>
        // kubectl describe matches events on the object's uid as well as its name.
        RecordAsync(new V1ObjectReference { ApiVersion = "kubevirt.io/v1", Kind = "VirtualMachine", Name = vmName, NamespaceProperty = Ns, Uid = vmUid }, vmEvent, ct);

    public Task RecordPoolEventAsync(VmEvent poolEvent, CancellationToken ct) => RecordPoolEventAsync(options.Pool, poolEvent, ct);

    public Task RecordPoolEventAsync(string pool, VmEvent poolEvent, CancellationToken ct) =>
        RecordAsync(new V1ObjectReference { ApiVersion = "pool.kubevirt.io/v1beta1", Kind = "VirtualMachinePool", Name = pool, NamespaceProperty = Ns }, poolEvent, ct);

    private async Task RecordAsync(V1ObjectReference involved, VmEvent vmEvent, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var evt = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = $"{involved.Name}.{now.Ticks:x}", NamespaceProperty = Ns },
            InvolvedObject = involved,
            Reason = vmEvent.Reason,
            Message = vmEvent.Message,
            Type = vmEvent.Warning ? "Warning" : "Normal",
            Source = new V1EventSource { Component = "blip-controller", Host = options.NodeName },
            ReportingComponent = "blip-controller",
            ReportingInstance = options.NodeName,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(evt, Ns, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            logger.LogDebug("{Kind} {Name}: could not record event {Reason} ({Error})", involved.Kind, involved.Name, vmEvent.Reason, ListWatch.Describe(e));
        }
    }

    public async IAsyncEnumerable<VmPoolChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var merged = System.Threading.Channels.Channel.CreateUnbounded<VmPoolChange>(new() { SingleReader = true });
        var listedKinds = new HashSet<VmPoolKind>();
        var gate = new object();

        // One pump per kind (VMs, VMIs), each with its own resourceVersion and its own 410: a relist of one kind
        // speaks only for that kind. A Resynced is Complete once both kinds have listed.
        async Task Pump<T>(
            VmPoolKind kind,
            string plural,
            Func<CancellationToken, Task<(IReadOnlyList<T>, string)>> list,
            Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
            Func<T, V1ObjectMeta> metadata,
            Func<T, VmPoolChange> upserted,
            Func<string, VmPoolChange> deleted)
        {
            await foreach (var item in ListWatch.Run(plural, list, watch, o => metadata(o).ResourceVersion, logger, ct).ConfigureAwait(false))
            {
                switch (item)
                {
                    case ListWatchItem<T>.Listed listed:
                        lock (gate)
                        {
                            listedKinds.Add(kind);
                            foreach (var o in listed.Items)
                            {
                                merged.Writer.TryWrite(upserted(o));
                            }

                            merged.Writer.TryWrite(new VmPoolChange.Resynced(kind, listed.Items.Select(o => metadata(o).Name).ToHashSet(), listedKinds.Count == 2));
                        }

                        break;
                    case ListWatchItem<T>.Changed { Type: WatchEventType.Deleted } gone:
                        merged.Writer.TryWrite(deleted(metadata(gone.Item).Name));
                        break;
                    case ListWatchItem<T>.Changed changed:
                        merged.Writer.TryWrite(upserted(changed.Item));
                        break;
                }
            }
        }

        Task PumpVms() => Pump<VirtualMachine>(VmPoolKind.Vms, VirtualMachine.Plural, ListVms, WatchVms, vm => vm.Metadata, ToChange, name => new VmPoolChange.VmDeleted(name));
        Task PumpVmis() => Pump<VirtualMachineInstance>(VmPoolKind.Vmis, VirtualMachineInstance.Plural, ListVmis, WatchVmis, vmi => vmi.Metadata, ToChange, name => new VmPoolChange.VmiDeleted(name));

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
            new KubeVirtVmSource(vm),
            vm.Metadata.Uid ?? "",
            vm.Metadata.DeletionTimestamp is not null);

    private static VmPoolChange ToChange(VirtualMachineInstance vmi) =>
        new VmPoolChange.VmiUpserted(vmi.Metadata.Name, vmi.Status?.Ready == true, vmi.Status?.Address, vmi.Status?.Phase,
            vmi.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "VirtualMachine")?.Uid ?? "");

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

/// <summary>The <see cref="VirtualMachine"/> behind a <see cref="VmView"/>, as this adapter listed or watched it.</summary>
public sealed class KubeVirtVmSource(VirtualMachine vm) : VmSource
{
    public VirtualMachine Vm { get; } = vm;
}
