namespace Blip.Actors.Inspection;

/// <summary>The settings inspection reads; bound and validated as part of <c>Hosting.BlipOptions</c> (same names).</summary>
public sealed class InspectionOptions
{
    /// <summary>The VM pool: VMs labelled <c>blip.io/pool=&lt;Pool&gt;</c>.</summary>
    public string Pool { get; init; } = "blip";

    /// <summary>The journal the readiness check opens.</summary>
    public required JournalStore Journal { get; init; }

    /// <summary>Where the management endpoint listens and the token it requires; null: disabled.</summary>
    public ManagementBinding? Management { get; init; }
}
