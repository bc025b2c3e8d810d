using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>The <c>/_sandbox/</c> admin API (admin token only): audit, request stats, faults, per-kind watch expiry.</summary>
public sealed partial class KubeApiEmulator
{
    private readonly ConcurrentDictionary<string, long> _byVerb = new();
    private readonly ConcurrentDictionary<string, long> _byResource = new();
    private long _total;

    private async Task HandleSandboxAsync(HttpContext ctx, string[] s, string user)
    {
        if (user != AdminUser)
        {
            throw new KubeApiException(403, "Forbidden", $"User \"{user}\" cannot use the sandbox admin API");
        }

        switch (ctx.Request.Method, s)
        {
            case ("GET", [_, "audit"]):
                await WriteJson(ctx, 200, new JsonArray(Store.Audit.Select(a => (JsonNode)a.ToJson()).ToArray()));
                return;
            case ("GET", [_, "stats"]):
                await WriteJson(ctx, 200, Stats());
                return;
            case ("GET", [_, "faults"]):
                await WriteJson(ctx, 200, Faults.ToJson());
                return;
            case ("PUT", [_, "faults"]):
                if (Faults.Apply(await ReadObjectAsync(ctx)))
                {
                    Store.DropWatches();
                }

                await WriteJson(ctx, 200, Faults.ToJson());
                return;
            case ("POST", [_, "expire-watches"]):
                {
                    // {"resource":"virtualmachineinstances"} (plural, optionally "plural.group"): that kind's watches end and
                    // resume with 410 Gone; the other kinds' watches are untouched.
                    var body = await ReadObjectAsync(ctx);
                    var name = body["resource"]?.GetValue<string>() ?? throw KubeApiException.BadRequest("expire-watches needs \"resource\": a plural such as virtualmachineinstances");
                    var resource = KubeResource.All.FirstOrDefault(r => r.Plural == name || r.QualifiedName == name)
                                   ?? throw KubeApiException.BadRequest($"expire-watches: unknown resource \"{name}\"; use a plural such as virtualmachineinstances");
                    var ended = Store.ExpireWatches(resource);
                    await WriteJson(ctx, 200, new JsonObject { ["resource"] = resource.QualifiedName, ["watchesEnded"] = ended, ["expiredThrough"] = Store.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                    return;
                }
            default:
                await WriteJson(ctx, 404, KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"));
                return;
        }
    }

    public JsonObject Stats()
    {
        var byVerb = new JsonObject();
        foreach (var (k, v) in _byVerb.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            byVerb[k] = v;
        }

        var byResource = new JsonObject();
        foreach (var (k, v) in _byResource.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            byResource[k] = v;
        }

        return new JsonObject
        {
            ["total"] = Interlocked.Read(ref _total),
            ["byVerb"] = byVerb,
            ["byResource"] = byResource,
            ["watches"] = OpenWatches,
        };
    }

    private void CountRequest(string verb, KubeResource r)
    {
        Interlocked.Increment(ref _total);
        _byVerb.AddOrUpdate(verb, 1, (_, n) => n + 1);
        _byResource.AddOrUpdate(r.Plural, 1, (_, n) => n + 1);
    }
}
