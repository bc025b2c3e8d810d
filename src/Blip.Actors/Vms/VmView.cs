namespace Blip.Actors.Vms;

/// <summary>
/// What the controller knows of one pool VM and its VMI, from the watch-fed cache.
/// <see cref="Source"/> is the VM object as last seen (the pool adapter's own handle), kept for the claim's conditional update.
/// <see cref="Pool"/> is its <c>blip.io/pool</c> label: the pool it belongs to.
/// </summary>
public sealed record VmView(
    string Name,
    string ResourceVersion,
    IReadOnlyDictionary<string, string> Annotations,
    bool InPool,
    bool VmiReady,
    string? Address,
    string? VmiPhase,
    VmSource Source,
    string Uid = "",
    bool Terminating = false,
    string Pool = "")
{
    public string? SessionId => Annotations.GetValueOrDefault(VmAnnotations.SessionId);
    public string? HostKey => Annotations.GetValueOrDefault(VmAnnotations.HostKey);
    public long? ClaimedByJob => VmAnnotations.JobIdOfSession(SessionId);
    public bool ReleaseRequested => Annotations.GetValueOrDefault(VmAnnotations.Release) == "true";

    /// <summary>The VM's runner has finished: the VMI stopped (the runner image powers off when the runner exits).</summary>
    public bool Stopped => VmiPhase is "Succeeded" or "Failed";

    /// <summary>DESIGN.md §2: in the pool, unclaimed, keys registered, VMI Ready with an address; not being deleted.</summary>
    public bool IsClaimable =>
        InPool
        && !Terminating
        && string.IsNullOrEmpty(SessionId)
        && !ReleaseRequested
        && !string.IsNullOrEmpty(HostKey)
        && Annotations.ContainsKey(VmAnnotations.ClientKey)
        && VmiReady
        && !Stopped
        && !string.IsNullOrEmpty(Address);
}

/// <summary>The VM object as the pool adapter last saw it: opaque to everything but the adapter that made it, which
/// subclasses it (the claim's conditional update starts from it).</summary>
public abstract class VmSource;
