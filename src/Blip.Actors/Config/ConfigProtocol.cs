using Akka.Actor;

namespace Blip.Actors.Config;

/// <summary>Messages of the Config feature.</summary>
public static class ConfigProtocol
{
    /// <summary>Subscribe to <see cref="SettingsChanged"/>; the current settings are sent at once.</summary>
    public sealed record Subscribe(IActorRef Subscriber);

    public sealed record Unsubscribe(IActorRef Subscriber);

    /// <summary>What the pipeline needs to run, broadcast on every change. Never carries the PAT itself.</summary>
    /// <param name="Config">The parsed ConfigMap, or null when it is missing or incomplete.</param>
    /// <param name="HasPat">Whether Secret <c>github-pat</c> has a non-empty <c>token</c>.</param>
    /// <param name="Synced">Whether both watches have listed at least once.</param>
    /// <param name="HasApp">Whether Secret <c>github-app</c> holds a complete GitHub App (it then authenticates instead of the PAT).</param>
    public sealed record SettingsChanged(ActionsConfig? Config, bool HasPat, bool Synced, bool HasApp = false)
    {
        public bool HasCredential => HasPat || HasApp;

        public bool CanPoll => Config is not null && HasCredential;
    }

    public sealed class GetSettings
    {
        public static readonly GetSettings Instance = new();

        private GetSettings()
        {
        }
    }
}

/// <summary>A watched Secret or ConfigMap as seen now; null data = it does not exist.</summary>
public abstract record ConfigObjectChange
{
    public sealed record ConfigMapSeen(string Name, IReadOnlyDictionary<string, string>? Data) : ConfigObjectChange;

    public sealed record SecretSeen(string Name, IReadOnlyDictionary<string, byte[]>? Data) : ConfigObjectChange;

    /// <summary>One of the two watches completed its first list.</summary>
    public sealed record Listed(string Kind) : ConfigObjectChange;
}

/// <summary>The controller's Secrets and ConfigMaps, watched. Implemented on KubernetesClient.</summary>
public interface IConfigSource
{
    IAsyncEnumerable<ConfigObjectChange> WatchAsync(CancellationToken ct);
}
