using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// List paging as the API server does it: <c>limit</c> cuts a list (items sorted by namespace and name) and hands back an
/// opaque <c>continue</c> token with <c>remainingItemCount</c>; the next request with that token gets the items after the
/// last one served, under the first page's resourceVersion (so a watch from it sees everything since). A token that is
/// not one of ours is 400. Simplification: later pages show objects as they are now, not as they were at the first page's version.
/// </summary>
public static class ListPages
{
    public static (IReadOnlyList<JsonObject> Items, long ResourceVersion, string? Continue, long Remaining) Page(
        IReadOnlyList<JsonObject> all, long current, string? limitText, string? continueToken)
    {
        var rv = current;
        var start = 0;
        if (!string.IsNullOrEmpty(continueToken))
        {
            (rv, var after) = Decode(continueToken);
            start = all.Count(o => string.CompareOrdinal(Key(o), after) <= 0);
        }

        long limit = 0;
        if (!string.IsNullOrEmpty(limitText) &&
            (!long.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            throw KubeApiException.BadRequest($"invalid limit: \"{limitText}\": must be a non-negative integer");
        }

        var rest = all.Skip(start).ToList();
        if (limit == 0 || rest.Count <= limit)
        {
            return (rest, rv, null, 0);
        }

        var page = rest.Take((int)limit).ToList();
        return (page, rv, Encode(rv, Key(page[^1])), rest.Count - page.Count);
    }

    private static string Key(JsonObject o) =>
        // NUL sorts first: ordinal order of the key is the store's (namespace, name) order.
        $"{o["metadata"]?["namespace"]?.GetValue<string>()}\u0000{o["metadata"]?["name"]?.GetValue<string>()}";

    private static string Encode(long rv, string after) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = rv, ["start"] = after }.ToJsonString()));

    private static (long Rv, string After) Decode(string token)
    {
        try
        {
            var json = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(token)))!;
            return (json["rv"]!.GetValue<long>(), json["start"]!.GetValue<string>());
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or NullReferenceException or InvalidOperationException)
        {
            throw KubeApiException.BadRequest("continue key is not valid: illegal base64 data or not a continue token of this server");
        }
    }
}
