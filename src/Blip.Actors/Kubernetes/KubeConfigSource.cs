using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Blip.Actors.Config;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Kubernetes;

/// <summary>
/// Watches exactly the Secrets and ConfigMap the controller reads, each by name (field selector
/// <c>metadata.name=NAME</c>), so the Role can grant them by <c>resourceNames</c> and no other Secret of the
/// namespace ever reaches this process. After every (re)list each name is reported as present or absent, so a
/// deletion missed while disconnected is still seen; a kind counts as listed once all its names have been.
/// </summary>
public sealed class KubeConfigSource(IKubernetes client, KubernetesOptions options, ILogger<KubeConfigSource> logger) : IConfigSource
{
    public static readonly IReadOnlyList<string> SecretNames =
        [GitHubToken.SecretName, GitHubAppCredentials.SecretName, GitHubCaBundle.ObjectName, ControllerSecrets.SshKeySecretName, ControllerSecrets.WebhookSecretName];

    public static readonly IReadOnlyList<string> ConfigMapNames = [ActionsConfig.ConfigMapName, GitHubCaBundle.ObjectName];

    public async IAsyncEnumerable<ConfigObjectChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var merged = Channel.CreateUnbounded<ConfigObjectChange>(new UnboundedChannelOptions { SingleReader = false });
        var ns = options.Namespace;
        var listedNames = new HashSet<string>();

        void Seen(string kind, IReadOnlyList<string> namesOfKind, string name, ConfigObjectChange change, bool listed)
        {
            merged.Writer.TryWrite(change);
            if (!listed)
            {
                return;
            }

            lock (listedNames)
            {
                listedNames.Add($"{kind}/{name}");
                if (namesOfKind.All(n => listedNames.Contains($"{kind}/{n}")))
                {
                    merged.Writer.TryWrite(new ConfigObjectChange.Listed(kind));
                }
            }
        }

        // One path for both kinds: only the list and watch calls and the change reported differ.
        IEnumerable<Task> PumpAll<T>(
            string kind,
            IReadOnlyList<string> names,
            Func<string, CancellationToken, Task<(IReadOnlyList<T> Items, string ResourceVersion)>> list,
            Func<string, string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Item)>> watch,
            Func<string, T?, ConfigObjectChange> change)
            where T : class, IMetadata<V1ObjectMeta> =>
            names.Select(name => Task.Run(() => Pump(kind, name, list, watch, (item, listed) => Seen(kind, names, name, change(name, item), listed), ct), ct));

        var pumps = Task.WhenAll(
            PumpAll<V1ConfigMap>(
                "configmaps", ConfigMapNames,
                async (selector, c) =>
                {
                    var list = await client.CoreV1.ListNamespacedConfigMapAsync(ns, fieldSelector: selector, cancellationToken: c).ConfigureAwait(false);
                    return (list.Items.ToList(), list.Metadata.ResourceVersion);
                },
                (selector, rv, onError, c) => client.CoreV1.WatchListNamespacedConfigMapAsync(ns, fieldSelector: selector, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: c),
                (name, cm) => new ConfigObjectChange.ConfigMapSeen(name, cm is null ? null : Copy(cm.Data)))
            .Concat(PumpAll<V1Secret>(
                "secrets", SecretNames,
                async (selector, c) =>
                {
                    var list = await client.CoreV1.ListNamespacedSecretAsync(ns, fieldSelector: selector, cancellationToken: c).ConfigureAwait(false);
                    return (list.Items.ToList(), list.Metadata.ResourceVersion);
                },
                (selector, rv, onError, c) => client.CoreV1.WatchListNamespacedSecretAsync(ns, fieldSelector: selector, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: c),
                (name, secret) => new ConfigObjectChange.SecretSeen(name, secret is null ? null : Copy(secret.Data)))));
        _ = pumps.ContinueWith(_ => merged.Writer.TryComplete(), TaskScheduler.Default);
        await foreach (var change in merged.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            yield return change;
        }
    }

    /// <summary>List-and-watch one object by name; <paramref name="seen"/> gets it (null when absent or deleted) and
    /// whether this sighting is a (re)list.</summary>
    private async Task Pump<T>(
        string kind,
        string name,
        Func<string, CancellationToken, Task<(IReadOnlyList<T> Items, string ResourceVersion)>> list,
        Func<string, string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Item)>> watch,
        Action<T?, bool> seen,
        CancellationToken ct)
        where T : class, IMetadata<V1ObjectMeta>
    {
        var selector = $"metadata.name={name}";
        var stream = ListWatch.Run(
            $"{kind}/{name}",
            c => list(selector, c),
            (rv, onError, c) => watch(selector, rv, onError, c),
            item => item.Metadata?.ResourceVersion,
            logger,
            ct);
        await foreach (var item in stream.ConfigureAwait(false))
        {
            switch (item)
            {
                case ListWatchItem<T>.Listed listed:
                    seen(listed.Items.FirstOrDefault(i => i.Metadata?.Name == name), true);
                    break;
                case ListWatchItem<T>.Changed changed when changed.Item.Metadata?.Name == name:
                    seen(changed.Type == WatchEventType.Deleted ? null : changed.Item, false);
                    break;
            }
        }
    }

    private static IReadOnlyDictionary<string, TValue> Copy<TValue>(IDictionary<string, TValue>? data) =>
        data is null ? new Dictionary<string, TValue>() : new Dictionary<string, TValue>(data);
}
