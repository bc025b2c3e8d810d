using System.Net;
using System.Threading.Channels;
using Blip.Actors.Shared;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Kubernetes;

/// <summary>One item of a list-then-watch stream: a full list, or one watch event.</summary>
public abstract record ListWatchItem<T>
{
    public sealed record Listed(IReadOnlyList<T> Items) : ListWatchItem<T>;

    public sealed record Changed(WatchEventType Type, T Item) : ListWatchItem<T>;
}

/// <summary>
/// The informer loop every watch here uses: list, then watch from the list's resourceVersion; when the
/// server closes the stream, watch again from the last version seen (bookmarks included); on 410 Gone
/// (the version expired), list again; on any other failure, back off (1 s doubling to 30 s) and retry.
/// </summary>
public static class ListWatch
{
    public static IAsyncEnumerable<ListWatchItem<T>> Run<T>(
        string what,
        Func<CancellationToken, Task<(IReadOnlyList<T> Items, string ResourceVersion)>> list,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Item)>> watch,
        Func<T, string?> resourceVersionOf,
        ILogger logger,
        CancellationToken ct)
    {
        var channel = Channel.CreateBounded<ListWatchItem<T>>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        _ = Task.Run(() => LoopAsync(what, list, watch, resourceVersionOf, logger, channel.Writer, ct), CancellationToken.None);
        return channel.Reader.ReadAllAsync(ct);
    }

    private static async Task LoopAsync<T>(
        string what,
        Func<CancellationToken, Task<(IReadOnlyList<T> Items, string ResourceVersion)>> list,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Item)>> watch,
        Func<T, string?> resourceVersionOf,
        ILogger logger,
        ChannelWriter<ListWatchItem<T>> writer,
        CancellationToken ct)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        string? resourceVersion = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    if (resourceVersion is null)
                    {
                        var (items, rv) = await list(ct).ConfigureAwait(false);
                        await writer.WriteAsync(new ListWatchItem<T>.Listed(items), ct).ConfigureAwait(false);
                        resourceVersion = rv;
                    }

                    var expired = false;
                    await foreach (var (type, item) in watch(resourceVersion, e => expired |= IsGone(e), ct).ConfigureAwait(false))
                    {
                        resourceVersion = resourceVersionOf(item) ?? resourceVersion;
                        if (type is WatchEventType.Bookmark or WatchEventType.Error)
                        {
                            continue;
                        }

                        await writer.WriteAsync(new ListWatchItem<T>.Changed(type, item), ct).ConfigureAwait(false);
                        backoff.Reset();
                    }

                    if (expired)
                    {
                        logger.LogInformation("{What}: watch version expired (410 Gone), listing again", what);
                        resourceVersion = null;
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (IsGone(e))
                {
                    logger.LogInformation("{What}: watch version expired (410 Gone), listing again", what);
                    resourceVersion = null;
                }
                catch (Exception e)
                {
                    var delay = backoff.Next();
                    logger.LogWarning("{What}: list/watch failed ({Error}); retrying in {Delay}", what, Describe(e), delay);
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped by the owner.
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private static bool IsGone(Exception e) => e switch
    {
        KubernetesException k => k.Status?.Code == (int)HttpStatusCode.Gone,
        HttpOperationException h => h.Response?.StatusCode == HttpStatusCode.Gone,
        _ => false,
    };

    public static string Describe(Exception e) => e switch
    {
        HttpOperationException h => $"HTTP {(int?)h.Response?.StatusCode}",
        KubernetesException k => $"status {k.Status?.Code} {k.Status?.Reason}",
        _ => e.GetType().Name + ": " + e.Message,
    };
}
