namespace Blip.Actors.Config;

/// <summary>Registry key of the node's <see cref="ConfigWatcher"/>.</summary>
public sealed class ConfigWatcherKey;
