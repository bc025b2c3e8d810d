namespace Blip.Actors.Polling;

/// <summary>Registry key of the <see cref="PollerCoordinator"/> singleton.</summary>
public sealed class PollerCoordinatorKey;
