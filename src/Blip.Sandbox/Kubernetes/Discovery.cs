using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>The version, legacy discovery and OpenAPI v3 documents kubectl reads before it does anything
/// (see notes/toolchain-facts.md, "kubectl against an emulated API server").</summary>
internal static class Discovery
{
    private static readonly string[] Verbs = ["create", "delete", "get", "list", "patch", "update", "watch"];

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.4",
        ["gitCommit"] = "59526cd4867447956156ae3a602fcbac5d1b5e3b",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-04-22T16:02:27Z",
        ["goVersion"] = "go1.23.6",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static IEnumerable<string> Groups() => KubeResource.All.Where(r => r.Group.Length > 0).Select(r => r.Group).Distinct();

    public static JsonObject ApiGroup(string group, bool withTypeMeta = true)
    {
        var versions = KubeResource.All.Where(r => r.Group == group).Select(r => r.Version).Distinct().ToList();
        var result = new JsonObject();
        if (withTypeMeta)
        {
            result["kind"] = "APIGroup";
            result["apiVersion"] = "v1";
        }
        result["name"] = group;
        result["versions"] = new JsonArray(versions.Select(v => (JsonNode)GroupVersion(group, v)).ToArray());
        result["preferredVersion"] = GroupVersion(group, versions[0]);
        return result;
    }

    public static JsonObject ApiGroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(Groups().Select(g => (JsonNode)ApiGroup(g, withTypeMeta: false)).ToArray()),
    };

    public static JsonObject? ApiResourceList(string group, string version)
    {
        var resources = KubeResource.All.Where(r => r.Group == group && r.Version == version).ToList();
        if (resources.Count == 0)
        {
            return null;
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = resources[0].ApiVersion,
            ["resources"] = new JsonArray(resources.SelectMany(r => (JsonNode[])
            [
                new JsonObject
                {
                    ["name"] = r.Plural,
                    ["singularName"] = r.Singular,
                    ["namespaced"] = r.Namespaced,
                    ["kind"] = r.Kind,
                    ["verbs"] = new JsonArray(Verbs.Select(v => (JsonNode)v).ToArray()),
                    ["shortNames"] = new JsonArray(r.ShortNames.Select(s => (JsonNode)s).ToArray()),
                    ["storageVersionHash"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(r.ToString())))[..11],
                },
                .. (r.Subresources ?? []).Select(Subresource(r)),
            ]).ToArray()),
        };
    }

    /// <summary>A subresource's discovery entry, as the API server lists <c>pods/log</c>: read-only, the parent's kind.</summary>
    private static Func<string, JsonNode> Subresource(KubeResource r) => sub => new JsonObject
    {
        ["name"] = $"{r.Plural}/{sub}",
        ["singularName"] = "",
        ["namespaced"] = r.Namespaced,
        ["kind"] = r.Kind,
        ["verbs"] = new JsonArray("get"),
    };

    /// <summary>The OpenAPI v3 index: one document per group version.</summary>
    public static JsonObject OpenApiIndex()
    {
        var paths = new JsonObject();
        foreach (var gv in KubeResource.All.Select(r => (r.Group, r.Version)).Distinct())
        {
            var key = OpenApiKey(gv.Group, gv.Version);
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash=BLIPSANDBOX{Math.Abs(key.GetHashCode() % 100000)}" };
        }
        return new JsonObject { ["paths"] = paths };
    }

    public static string OpenApiKey(string group, string version) => group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";

    /// <summary>
    /// A group version's OpenAPI v3 document: just enough for kubectl. Every resource has a PATCH
    /// operation tagged with its group/version/kind that takes the fieldValidation parameter, so
    /// kubectl leaves validation to the server instead of fetching schemas. No component schemas:
    /// kubectl apply then builds strategic merge patches from its compiled-in types.
    /// </summary>
    public static JsonObject? OpenApiDocument(string key)
    {
        var resources = KubeResource.All.Where(r => OpenApiKey(r.Group, r.Version) == key).ToList();
        if (resources.Count == 0)
        {
            return null;
        }

        var paths = new JsonObject();
        foreach (var r in resources)
        {
            var prefix = "/" + key;
            var path = r.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{r.Plural}/{{name}}" : $"{prefix}/{r.Plural}/{{name}}";
            paths[path] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["description"] = $"partially update the specified {r.Kind}",
                    ["operationId"] = $"patch{r.Kind}",
                    ["parameters"] = new JsonArray(
                        QueryParameter("dryRun"),
                        QueryParameter("fieldManager"),
                        QueryParameter("fieldValidation"),
                        QueryParameter("force")),
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                    ["x-kubernetes-action"] = "patch",
                    ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = r.Group, ["version"] = r.Version, ["kind"] = r.Kind },
                },
            };
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.4" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() },
        };
    }

    private static JsonObject GroupVersion(string group, string version) =>
        new() { ["groupVersion"] = $"{group}/{version}", ["version"] = version };

    private static JsonObject QueryParameter(string name) => new()
    {
        ["name"] = name,
        ["in"] = "query",
        ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
    };
}
