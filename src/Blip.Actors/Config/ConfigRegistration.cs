using Akka.Hosting;

namespace Blip.Actors.Config;

/// <summary>Registry key of the node's <see cref="ConfigWatcher"/>.</summary>
public sealed class ConfigWatcherKey;

/// <summary>Registers the node's <see cref="ConfigWatcher"/> (actor <c>/user/config</c>).</summary>
public static class ConfigRegistration
{
    public static AkkaConfigurationBuilder AddConfigWatcher(this AkkaConfigurationBuilder builder, IConfigSource source, ControllerSecrets secrets) =>
        builder.WithActors((system, registry) => registry.Register<ConfigWatcherKey>(system.ActorOf(ConfigWatcher.Props(source, secrets), "config")));
}
