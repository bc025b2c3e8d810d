using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>Discovery and OpenAPI documents (<see cref="Discovery"/>) as kubectl asks for them.</summary>
public sealed partial class KubeApiEmulator
{
    private async Task<bool> TryDiscoveryAsync(HttpContext ctx, string[] s)
    {
        if (!HttpMethods.IsGet(ctx.Request.Method))
        {
            return false;
        }

        JsonObject? body = s switch
        {
            ["api"] => Discovery.ApiVersions($"{Url.Host}:{Url.Port}"),
            ["apis"] => Discovery.ApiGroupList(),
            ["api", var v] => Discovery.ApiResourceList("", v),
            ["apis", var g] when Discovery.Groups().Contains(g) => Discovery.ApiGroup(g),
            ["apis", var g, var v] => Discovery.ApiResourceList(g, v),
            ["openapi", "v3"] => Discovery.OpenApiIndex(),
            ["openapi", "v3", .. var rest] => Discovery.OpenApiDocument(string.Join('/', rest)),
            ["openapi", "v2"] => KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"),
            _ => null,
        };
        if (body is null)
        {
            if (s is ["api", _] or ["apis", _, _] or ["openapi", "v3", ..])
            {
                await WriteJson(ctx, 404, KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"));
                return true;
            }
            return false;
        }
        await WriteJson(ctx, body["kind"]?.ToString() == "Status" ? 404 : 200, body);
        return true;
    }
}
