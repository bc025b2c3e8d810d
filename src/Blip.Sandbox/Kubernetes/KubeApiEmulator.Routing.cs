using System.Text;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>Routing: every request is authenticated, then served by the admin API, discovery or a resource's handler;
/// the request and response JSON helpers they share.</summary>
public sealed partial class KubeApiEmulator
{
    private void MapRoutes()
    {
        _app.MapGet("/version", () => Json(Discovery.Version()));
        foreach (var probe in new[] { "/healthz", "/readyz", "/livez" })
        {
            _app.MapGet(probe, () => Results.Text("ok"));
        }

        _app.Map("/{**path}", HandleAsync);
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            var path = ctx.Request.Path.Value?.TrimEnd('/') ?? "";
            var identity = Authenticate(ctx);
            if (identity is null)
            {
                await WriteJson(ctx, 401, KubeStatus.Failure(401, "Unauthorized", "Unauthorized"));
                return;
            }
            var (user, auditName) = identity.Value;
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);

            if (segments.Length > 0 && segments[0] == "_sandbox")
            {
                await HandleSandboxAsync(ctx, segments, user);
                return;
            }
            if (await TryDiscoveryAsync(ctx, segments))
            {
                return;
            }

            if (!TryParseResourcePath(segments, out var resource, out var ns, out var name, out var subresource))
            {
                await WriteJson(ctx, 404, KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"));
                return;
            }
            await HandleResourceAsync(ctx, resource, ns, name, subresource, user, auditName);
        }
        catch (KubeApiException e)
        {
            if (!ctx.Response.HasStarted)
            {
                await WriteJson(ctx, e.Code, e.ToStatus());
            }
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
        }
    }

    private static bool TryParseResourcePath(string[] s, out KubeResource resource, out string? ns, out string? name, out string? subresource)
    {
        resource = null!;
        ns = name = subresource = null;
        string group, version;
        string[] rest;
        if (s is ["api", var v, .. var r1])
        {
            (group, version, rest) = ("", v, r1);
        }
        else if (s is ["apis", var g, var v2, .. var r2])
        {
            (group, version, rest) = (g, v2, r2);
        }
        else
        {
            return false;
        }
        if (rest is ["namespaces", var n, var plural, .. var tail] && KubeResource.Find(group, version, plural) is { Namespaced: true } namespaced && tail.Length <= 2)
        {
            (resource, ns) = (namespaced, n);
            name = tail.ElementAtOrDefault(0);
            subresource = tail.ElementAtOrDefault(1);
            return true;
        }
        if (rest.Length is >= 1 and <= 3 && KubeResource.Find(group, version, rest[0]) is { } r)
        {
            resource = r;
            name = rest.ElementAtOrDefault(1);
            subresource = rest.ElementAtOrDefault(2);
            return r.Namespaced ? name is null : true;
        }
        return false;
    }

    /// <summary>The request's object: JSON, or protobuf as kubectl sends built-in types on create.</summary>
    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx, KubeResource r)
    {
        if (ProtobufBodies.IsProtobuf(ctx.Request.ContentType))
        {
            if (r.IsCustomResource)
            {
                throw ProtobufBodies.Unsupported(ctx.Request.ContentType);
            }

            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
            return ProtobufBodies.Decode(r, body.ToArray());
        }

        return await ReadObjectAsync(ctx);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx) =>
        await ReadOptionalObjectAsync(ctx) ?? throw KubeApiException.BadRequest("the request body is empty");

    private static async Task<JsonObject?> ReadOptionalObjectAsync(HttpContext ctx)
    {
        var text = await new StreamReader(ctx.Request.Body, Encoding.UTF8).ReadToEndAsync(ctx.RequestAborted);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw KubeApiException.BadRequest("the request body is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw KubeApiException.BadRequest($"error decoding the request body: {e.Message}");
        }
    }

    private static IResult Json(JsonNode body) => Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8);

    private static async Task WriteJson(HttpContext ctx, int code, JsonNode body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString(), ctx.RequestAborted);
    }

    private static async Task WriteLine(HttpContext ctx, JsonNode body)
    {
        await ctx.Response.WriteAsync(body.ToJsonString() + "\n", ctx.RequestAborted);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
    }
}
