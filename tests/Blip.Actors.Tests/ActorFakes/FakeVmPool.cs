using System.Collections.Concurrent;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.ActorFakes;

/// <summary>An <see cref="IVmPool"/> that records what the actors asked of it; each call answers as the test says.</summary>
public sealed class FakeVmPool : IVmPool
{
    public ConcurrentQueue<string> Claims { get; } = new();
    public ConcurrentQueue<string> Releases { get; } = new();
    public ConcurrentQueue<(string Vm, IReadOnlyDictionary<string, string?> Annotations)> Annotated { get; } = new();
    public ConcurrentQueue<(string Vm, VmEvent Event)> Events { get; } = new();

    /// <summary>How a claim of a VM ends (default: it is ours).</summary>
    public Func<VmView, Task<ClaimOutcome>> OnClaim { get; set; } = _ => Task.FromResult(ClaimOutcome.Claimed);

    public Func<string, Task> OnRelease { get; set; } = _ => Task.CompletedTask;

    public Task<ClaimOutcome> TryClaimAsync(VmView vm, IReadOnlyDictionary<string, string> annotations, CancellationToken ct)
    {
        Claims.Enqueue(vm.Name);
        return OnClaim(vm);
    }

    public Task<bool> AnnotateAsync(string vmName, string? vmUid, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct)
    {
        Annotated.Enqueue((vmName, annotations));
        return Task.FromResult(true);
    }

    public Task ReleaseAsync(string vmName, string? vmUid, string sessionId, CancellationToken ct)
    {
        Releases.Enqueue(vmName);
        return OnRelease(vmName);
    }

    public Task RecordEventAsync(string vmName, string? vmUid, VmEvent vmEvent, CancellationToken ct)
    {
        Events.Enqueue((vmName, vmEvent));
        return Task.CompletedTask;
    }

    public Task RecordPoolEventAsync(VmEvent poolEvent, CancellationToken ct)
    {
        Events.Enqueue(("", poolEvent));
        return Task.CompletedTask;
    }

    /// <summary>An event on a pool jobs are routed to: recorded as <c>pool/&lt;name&gt;</c>.</summary>
    public Task RecordPoolEventAsync(string pool, VmEvent poolEvent, CancellationToken ct)
    {
        Events.Enqueue(("pool/" + pool, poolEvent));
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<VmPoolChange> WatchAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        yield break;
    }

    /// <summary>The uid the VMs of this fake carry: one per name (a test of name reuse makes its own VmView).</summary>
    public static string UidOf(string name) => $"uid-{name}";

    /// <summary>A claimable pool VM, or one already claimed for <paramref name="jobId"/>.</summary>
    /// <param name="pool">Its <c>blip.io/pool</c>; empty: the default pool.</param>
    public static VmView Vm(string name, long? jobId = null, bool releaseRequested = false, string pool = "")
    {
        var annotations = new Dictionary<string, string>
        {
            [VmAnnotations.HostKey] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            [VmAnnotations.ClientKey] = "ssh-ed25519 AAAA client",
        };
        if (jobId is { } id)
        {
            annotations[VmAnnotations.SessionId] = VmAnnotations.SessionPrefix + id;
            annotations[VmAnnotations.ClaimedAt] = "2026-11-30T12:00:00Z";
        }

        if (releaseRequested)
        {
            annotations[VmAnnotations.Release] = "true";
        }

        return new VmView(name, "1", annotations, InPool: true, VmiReady: true, Address: "127.0.1.9", VmiPhase: "Running", Source: new FakeVmSource(), Uid: UidOf(name), Pool: pool);
    }
}

/// <summary>The handle a fake pool gives its VMs (the real adapter's holds the VirtualMachine object).</summary>
public sealed class FakeVmSource : VmSource;
