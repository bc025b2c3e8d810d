namespace Blip.Actors.Inspection;

/// <summary>What inspection reads, derived from <c>Hosting.BlipOptions</c> (bound and validated there): <c>Pool</c>, the
/// journal of <c>Store</c>/<c>ConnectionString</c>/<c>DataDir</c>, and the endpoint of <c>ManagementUrl</c>/<c>ManagementToken</c>.</summary>
public sealed class InspectionOptions
{
    /// <summary>The VM pool: VMs labelled <c>blip.io/pool=&lt;Pool&gt;</c>.</summary>
    public string Pool { get; init; } = "blip";

    /// <summary>The journal the readiness check opens.</summary>
    public required JournalStore Journal { get; init; }

    /// <summary>Where the management endpoint listens and the token it requires; null: disabled.</summary>
    public ManagementBinding? Management { get; init; }
}
