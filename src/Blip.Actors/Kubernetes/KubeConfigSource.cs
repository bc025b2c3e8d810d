using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Blip.Actors.Config;
using Blip.Actors.Hosting;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Kubernetes;

/// <summary>
/// Watches the Secrets and ConfigMaps the controller reads (by name, in its namespace). After every (re)list
/// each name is reported as present or absent, so a deletion missed while disconnected is still seen.
/// </summary>
public sealed class KubeConfigSource(IKubernetes client, BlipOptions options, ILogger<KubeConfigSource> logger) : IConfigSource
{
    private static readonly string[] SecretNames = [GitHubToken.SecretName, ControllerSecrets.SshKeySecretName, ControllerSecrets.WebhookSecretName];
    private static readonly string[] ConfigMapNames = [ActionsConfig.ConfigMapName];

    public async IAsyncEnumerable<ConfigObjectChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var merged = Channel.CreateUnbounded<ConfigObjectChange>(new UnboundedChannelOptions { SingleReader = true });
        var ns = options.Namespace;

        async Task PumpConfigMaps()
        {
            var stream = ListWatch.Run<V1ConfigMap>(
                "configmaps",
                async c =>
                {
                    var list = await client.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: c).ConfigureAwait(false);
                    return (list.Items.ToList(), list.Metadata.ResourceVersion);
                },
                (rv, onError, c) => client.CoreV1.WatchListNamespacedConfigMapAsync(ns, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: c),
                cm => cm.Metadata?.ResourceVersion,
                logger,
                ct);
            await foreach (var item in stream.ConfigureAwait(false))
            {
                switch (item)
                {
                    case ListWatchItem<V1ConfigMap>.Listed listed:
                        foreach (var name in ConfigMapNames)
                        {
                            var cm = listed.Items.FirstOrDefault(i => i.Metadata.Name == name);
                            merged.Writer.TryWrite(new ConfigObjectChange.ConfigMapSeen(name, cm is null ? null : Copy(cm.Data)));
                        }

                        merged.Writer.TryWrite(new ConfigObjectChange.Listed("configmaps"));
                        break;
                    case ListWatchItem<V1ConfigMap>.Changed changed when ConfigMapNames.Contains(changed.Item.Metadata.Name):
                        merged.Writer.TryWrite(new ConfigObjectChange.ConfigMapSeen(
                            changed.Item.Metadata.Name, changed.Type == WatchEventType.Deleted ? null : Copy(changed.Item.Data)));
                        break;
                }
            }
        }

        async Task PumpSecrets()
        {
            var stream = ListWatch.Run<V1Secret>(
                "secrets",
                async c =>
                {
                    var list = await client.CoreV1.ListNamespacedSecretAsync(ns, cancellationToken: c).ConfigureAwait(false);
                    return (list.Items.ToList(), list.Metadata.ResourceVersion);
                },
                (rv, onError, c) => client.CoreV1.WatchListNamespacedSecretAsync(ns, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: c),
                s => s.Metadata?.ResourceVersion,
                logger,
                ct);
            await foreach (var item in stream.ConfigureAwait(false))
            {
                switch (item)
                {
                    case ListWatchItem<V1Secret>.Listed listed:
                        foreach (var name in SecretNames)
                        {
                            var secret = listed.Items.FirstOrDefault(i => i.Metadata.Name == name);
                            merged.Writer.TryWrite(new ConfigObjectChange.SecretSeen(name, secret is null ? null : Copy(secret.Data)));
                        }

                        merged.Writer.TryWrite(new ConfigObjectChange.Listed("secrets"));
                        break;
                    case ListWatchItem<V1Secret>.Changed changed when SecretNames.Contains(changed.Item.Metadata.Name):
                        merged.Writer.TryWrite(new ConfigObjectChange.SecretSeen(
                            changed.Item.Metadata.Name, changed.Type == WatchEventType.Deleted ? null : Copy(changed.Item.Data)));
                        break;
                }
            }
        }

        var pumps = Task.WhenAll(Task.Run(PumpConfigMaps, ct), Task.Run(PumpSecrets, ct));
        _ = pumps.ContinueWith(_ => merged.Writer.TryComplete(), TaskScheduler.Default);
        await foreach (var change in merged.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            yield return change;
        }
    }

    private static IReadOnlyDictionary<string, TValue> Copy<TValue>(IDictionary<string, TValue>? data) =>
        data is null ? new Dictionary<string, TValue>() : new Dictionary<string, TValue>(data);
}
