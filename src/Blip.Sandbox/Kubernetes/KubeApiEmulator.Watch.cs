using System.Globalization;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>Watches: the store's events streamed as JSON lines, bookmarks while idle, faults that hold or drop them.</summary>
public sealed partial class KubeApiEmulator
{
    private int _openWatches;

    public int OpenWatches => Volatile.Read(ref _openWatches);

    private async Task WatchAsync(HttpContext ctx, KubeResource r, string? ns)
    {
        var q = ctx.Request.Query;
        var selector = Selector.ParseLabels(q["labelSelector"]).And(Selector.ParseFields(q["fieldSelector"]));
        var bookmarks = q["allowWatchBookmarks"].ToString() is "true" or "1";
        var timeout = int.TryParse(q["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : _options.DefaultWatchTimeout;

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        WatchSubscription subscription;
        try
        {
            subscription = Store.Watch(r, ns, selector, q["resourceVersion"]);
        }
        catch (KubeApiException e) when (e.Code == 410)
        {
            // A real API server answers 200 and sends the expiry as the stream's only event.
            await WriteLine(ctx, new JsonObject { ["type"] = "ERROR", ["object"] = e.ToStatus() });
            return;
        }

        Interlocked.Increment(ref _openWatches);
        try
        {
            using var watch = subscription;
            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
            lifetime.CancelAfter(timeout);
            await ctx.Response.StartAsync(lifetime.Token);
            await ctx.Response.Body.FlushAsync(lifetime.Token);
            while (!lifetime.IsCancellationRequested)
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token);
                if (bookmarks)
                {
                    tick.CancelAfter(_options.BookmarkInterval);
                }

                bool open;
                try
                {
                    open = await subscription.Events.WaitToReadAsync(tick.Token);
                }
                catch (OperationCanceledException) when (!lifetime.IsCancellationRequested)
                {
                    if (Faults.WatchesHeld(r.Plural))
                    {
                        continue;
                    }
                    // Read the version first: every event at or below it is already queued, so an empty
                    // queue means the watcher has seen everything up to it.
                    var rv = Store.CurrentResourceVersion;
                    if (!subscription.Events.TryPeek(out _))
                    {
                        await WriteLine(ctx, new JsonObject
                        {
                            ["type"] = "BOOKMARK",
                            ["object"] = new JsonObject
                            {
                                ["kind"] = r.Kind,
                                ["apiVersion"] = r.ApiVersion,
                                ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
                            },
                        });
                    }
                    continue;
                }
                if (!open)
                {
                    break;
                }

                await Faults.WatchesFlowAsync(r.Plural, lifetime.Token);
                while (subscription.Events.TryRead(out var e))
                {
                    var line = new JsonObject { ["type"] = e.Type, ["object"] = e.Object.DeepClone() };
                    await ctx.Response.WriteAsync(line.ToJsonString() + "\n", lifetime.Token);
                }
                await ctx.Response.Body.FlushAsync(lifetime.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _openWatches);
        }
    }
}
