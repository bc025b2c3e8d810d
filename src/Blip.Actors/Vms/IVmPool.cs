namespace Blip.Actors.Vms;

/// <summary>The VMs of the pool as the controller needs them. Implemented on KubeVirt objects through KubernetesClient.</summary>
public interface IVmPool
{
    /// <summary>One conditional update (the VM's resourceVersion) that writes the claim annotations.</summary>
    Task<ClaimOutcome> TryClaimAsync(VmView vm, IReadOnlyDictionary<string, string> annotations, CancellationToken ct);

    /// <summary>Sets annotations on the VM of that name and uid. False when it is gone, or the name is another VM's now
    /// (pool VM names are reused). A null uid (a claim recorded before uids were) guards nothing.</summary>
    Task<bool> AnnotateAsync(string vmName, string? vmUid, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct);

    /// <summary><c>blip.io/release=true</c>, then delete, only while the VM is that uid and still carries
    /// <paramref name="sessionId"/>. A VM already gone, or no longer ours, is success: Blip may delete it first.</summary>
    Task ReleaseAsync(string vmName, string? vmUid, string sessionId, CancellationToken ct);

    /// <summary>Records a Kubernetes Event on the VM (its uid in <c>involvedObject</c>, so <c>kubectl describe vm</c>
    /// lists it). Best effort.</summary>
    Task RecordEventAsync(string vmName, string? vmUid, VmEvent vmEvent, CancellationToken ct);

    /// <summary>Records a Kubernetes Event on the pool itself (the VirtualMachinePool), for what concerns no one VM: a job
    /// waiting too long for one (<c>kubectl events --for virtualmachinepool/&lt;pool&gt;</c>). Best effort.</summary>
    Task RecordPoolEventAsync(VmEvent poolEvent, CancellationToken ct);

    /// <summary>The same on the VirtualMachinePool <paramref name="pool"/>, a pool jobs are routed to (key <c>pools</c>).
    /// An adapter that knows one pool only records it on that one; a wrapper must forward this overload too, or the event
    /// lands on the default pool (<c>Pipeline/PoolRoutingTests</c> checks the one production uses).</summary>
    Task RecordPoolEventAsync(string pool, VmEvent poolEvent, CancellationToken ct) => RecordPoolEventAsync(poolEvent, ct);

    /// <summary>Lists then watches the VMs of every pool (label <c>blip.io/pool</c> set) and the VMIs, resuming by resourceVersion
    /// and re-listing on 410; never ends until cancelled. The inventory tells the pools apart by that label.</summary>
    IAsyncEnumerable<VmPoolChange> WatchAsync(CancellationToken ct);
}

/// <summary>One line of a VM's story: a reason (CamelCase, as Kubernetes events use) and a message without secrets.</summary>
public sealed record VmEvent(string Reason, string Message, bool Warning = false);

public enum ClaimOutcome
{
    Claimed,

    /// <summary>409: someone else wrote the VM first. Pick another.</summary>
    Conflict,

    /// <summary>404: the VM was deleted meanwhile.</summary>
    Gone,
}

/// <summary>A change seen by the pool watch: a VM or VMI upserted or deleted, or a full re-list (Synced).</summary>
public abstract record VmPoolChange
{
    /// <param name="Uid">Tells this VM from an earlier or later one of the same name.</param>
    /// <param name="Terminating">Deleted, waiting on finalizers (<c>metadata.deletionTimestamp</c>): never claimable.</param>
    public sealed record VmUpserted(string Name, string ResourceVersion, IReadOnlyDictionary<string, string> Annotations, IReadOnlyDictionary<string, string> Labels, VmSource Source, string Uid = "", bool Terminating = false) : VmPoolChange;

    public sealed record VmDeleted(string Name) : VmPoolChange;

    /// <param name="OwnerUid">The uid of the VM that controls this instance (its controller ownerReference); empty if unknown.</param>
    public sealed record VmiUpserted(string Name, bool Ready, string? Address, string? Phase, string OwnerUid = "") : VmPoolChange;

    public sealed record VmiDeleted(string Name) : VmPoolChange;

    /// <summary>One kind's watch (re)listed: every object of <paramref name="Kind"/> not in <see cref="Names"/> is gone.
    /// Says nothing about the other kind: a VMI relist never deletes a VM, and the reverse (issue 13).
    /// <paramref name="Complete"/>: both VMs and VMIs have been listed at least once, so the cache is whole.</summary>
    public sealed record Resynced(VmPoolKind Kind, IReadOnlySet<string> Names, bool Complete) : VmPoolChange;
}

/// <summary>The two resource kinds the pool watch follows, each with its own list, watch and expiry.</summary>
public enum VmPoolKind
{
    Vms,
    Vmis,
}
