using Blip.Actors.Runners;

namespace Blip.Actors.Jobs;

/// <summary>The settings the job actor and its children read; bound and validated as part of <c>Hosting.BlipOptions</c>
/// (same names).</summary>
public sealed class JobOptions
{
    /// <summary>The spec's hard cap from claim to release (runnerMaxTTL): <see cref="MaxDurationSeconds"/> may lower it, never raise it.</summary>
    public const int SpecMaxDurationSeconds = 1800;

    /// <summary>The VM pool: VMs labelled <c>blip.io/pool=&lt;Pool&gt;</c>.</summary>
    public string Pool { get; init; } = "blip";

    /// <summary>Written into <c>blip.io/claimed-by</c>.</summary>
    public string NodeName { get; init; } = Environment.MachineName;

    /// <summary>What the runner bootstrapper (the job actor's child while provisioning) reads.</summary>
    public RunnerOptions Runner { get; init; } = new();

    /// <summary>How many VMs one job may give up over its life (SSH failures, VMs lost before the runner started); then the
    /// job fails instead of claiming more. A configuration fault holds VMs rather than giving them up, so it does not count.</summary>
    public int MaxVmsGivenUpPerJob { get; init; } = 5;

    /// <summary><c>blip.io/max-duration</c>: the hard cap from claim to release (the spec's runnerMaxTTL); at most 1800.</summary>
    public int MaxDurationSeconds { get; init; } = SpecMaxDurationSeconds;

    /// <summary>A runner left idle (its trigger job was taken elsewhere or cancelled) is removed after this, freeing its VM.
    /// Short, because GitHub swaps jobs between matching runners all the time and an idle runner holds a VM other
    /// jobs wait for (the benchmark's burst stalled for 85 s with 2 min here).</summary>
    public TimeSpan IdleRunnerGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running job checks its runner when no free signal (VM stopped, webhook) has arrived.
    /// A 304 is free: an unchanged runner costs nothing.</summary>
    public TimeSpan RunnerCheckInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A job still claiming a VM gives up when no poll has seen it queued for this long.</summary>
    public TimeSpan QueuedSightingTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A job waiting for a VM longer than this is reported stuck (<see cref="StuckJobWatch"/>).</summary>
    public TimeSpan StuckJobAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a finished job's events are kept (the tombstone a late sighting meets); then they are deleted, and
    /// a sighting of a job queued longer ago than this is ignored (<see cref="JobRetention"/>).</summary>
    public TimeSpan JobRetention { get; init; } = Jobs.JobRetention.Default;
}
