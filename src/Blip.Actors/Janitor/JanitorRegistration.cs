namespace Blip.Actors.Janitor;

/// <summary>Registry key of the <see cref="Janitor"/> singleton.</summary>
public sealed class JanitorKey;

/// <summary>Registry key of the orphaned-runner sweeper singleton.</summary>
public sealed class OrphanRunnerSweeperKey;
