using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>
/// GitHub's own published descriptions, from the npm packages <c>.ci/prereqs</c> installs into
/// <c>.ci/github-descriptions/node_modules</c> (versions pinned in its package.json): the REST API's OpenAPI 3.0
/// description (<c>@octokit/openapi</c>, api.github.com) and the webhook payload schemas (<c>@octokit/webhooks-schemas</c>).
/// OpenAPI 3.0 schemas are turned into JSON Schema 2020-12: component references point into one registered document,
/// and <c>nullable: true</c> becomes a type union with null.
/// </summary>
internal sealed class PublishedDescriptions
{
    private static readonly Uri ComponentsUri = new("https://blip.test/github/openapi-components.json");
    private static readonly Uri WebhooksUri = new("https://blip.test/github/webhooks-schema.json");
    private static readonly Lazy<PublishedDescriptions> Loaded = new(Load);

    private readonly JsonObject _paths;
    private readonly JsonObject _responses;
    private readonly BuildOptions _build;

    public static PublishedDescriptions Instance => Loaded.Value;

    public string OpenApiVersion { get; }

    public string WebhooksVersion { get; }

    private PublishedDescriptions(JsonObject openApi, JsonObject webhooks, string openApiVersion, string webhooksVersion)
    {
        OpenApiVersion = openApiVersion;
        WebhooksVersion = webhooksVersion;
        _paths = openApi["paths"]!.AsObject();
        var components = openApi["components"]!.AsObject();
        _responses = components["responses"]!.AsObject();
        _build = new BuildOptions { SchemaRegistry = new SchemaRegistry() };

        var defs = new JsonObject();
        foreach (var (name, schema) in components["schemas"]!.AsObject())
        {
            defs[name] = Convert(schema!);
        }

        var document = new JsonObject { ["$schema"] = "https://json-schema.org/draft/2020-12/schema", ["$defs"] = defs };
        JsonSchema.Build(JsonSerializer.SerializeToElement(document), _build, ComponentsUri);
        webhooks.Remove("oneOf");
        JsonSchema.Build(JsonSerializer.SerializeToElement(webhooks), _build, WebhooksUri);
    }

    /// <summary>The schema of the JSON reply of <paramref name="method"/> <paramref name="path"/> (as GitHub's description
    /// spells it, e.g. <c>/repos/{owner}/{repo}/actions/runs</c>) with <paramref name="status"/>.</summary>
    public JsonSchema ResponseSchema(string method, string path, int status)
    {
        var operation = _paths[path]?[method.ToLowerInvariant()]
            ?? throw new InvalidOperationException($"GitHub's REST description has no {method} {path}");
        var response = operation["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            ?? throw new InvalidOperationException($"GitHub's REST description has no {status} reply for {method} {path}");
        if (response["$ref"]?.GetValue<string>() is { } reference)
        {
            response = _responses[reference["#/components/responses/".Length..]]!;
        }

        var schema = response["content"]?["application/json"]?["schema"]
            ?? throw new InvalidOperationException($"GitHub's REST description gives the {status} reply of {method} {path} no JSON body");
        var root = Convert(schema).AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        return JsonSchema.Build(JsonSerializer.SerializeToElement(root), _build, new Uri($"https://blip.test/github/{Guid.NewGuid():N}.json"));
    }

    /// <summary>The schema of a <c>workflow_job</c> delivery with <paramref name="action"/> (queued, waiting, in_progress, completed).</summary>
    public JsonSchema WorkflowJobSchema(string action)
    {
        var root = new JsonObject
        {
            ["$schema"] = "http://json-schema.org/draft-07/schema#",
            ["$ref"] = $"{WebhooksUri}#/definitions/workflow_job${action}",
        };
        return JsonSchema.Build(JsonSerializer.SerializeToElement(root), _build, new Uri($"https://blip.test/github/{Guid.NewGuid():N}.json"));
    }

    /// <summary>Every failed check of <paramref name="instance"/> against <paramref name="schema"/>, one line each; empty when
    /// valid. Only failures that made the whole fail: a oneOf branch that did not match beside one that did is no news.</summary>
    public static IReadOnlyList<string> Violations(JsonSchema schema, JsonElement instance)
    {
        var result = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical, RequireFormatValidation = true });
        var lines = new List<string>();
        Collect(result, lines);
        return result.IsValid ? [] : lines.Count == 0 ? ["invalid (no details)"] : lines;
    }

    private static void Collect(EvaluationResults node, List<string> lines)
    {
        if (node.IsValid)
        {
            return;
        }

        foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
        {
            lines.Add($"{node.InstanceLocation} ({node.EvaluationPath}): {keyword}: {message}");
        }

        foreach (var child in node.Details ?? [])
        {
            Collect(child, lines);
        }
    }

    /// <summary>An OpenAPI 3.0 schema as JSON Schema 2020-12.</summary>
    private static JsonNode Convert(JsonNode node)
    {
        switch (node)
        {
            case JsonArray array:
                return new JsonArray(array.Select(item => item is null ? null : Convert(item)).ToArray());
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    if (key == "nullable" || key == "example")
                    {
                        continue;
                    }

                    if (key is "properties" or "patternProperties" && value is JsonObject named)
                    {
                        // Property names, not keywords: a property may well be called "example".
                        copy[key] = new JsonObject(named.Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Convert(p.Value))));
                        continue;
                    }

                    copy[key] = key == "$ref" && value!.GetValue<string>().StartsWith("#/components/schemas/", StringComparison.Ordinal)
                        ? $"{ComponentsUri}#/$defs/{value.GetValue<string>()["#/components/schemas/".Length..]}"
                        : value is null ? null : Convert(value);
                }

                if (obj["nullable"] is JsonValue nullable && nullable.GetValue<bool>())
                {
                    if (copy["type"] is JsonValue type)
                    {
                        copy["type"] = new JsonArray(type.GetValue<string>(), "null");
                        if (copy["enum"] is JsonArray values && !values.Any(v => v is null))
                        {
                            values.Add(null);
                        }
                    }
                    else
                    {
                        return new JsonObject { ["anyOf"] = new JsonArray(copy, new JsonObject { ["type"] = "null" }) };
                    }
                }

                return copy;
            default:
                return node.DeepClone();
        }
    }

    private static PublishedDescriptions Load()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Blip.Actors.sln")))
        {
            root = root.Parent;
        }

        var packages = Path.Combine(root?.FullName ?? throw new InvalidOperationException($"no Blip.Actors.sln above {AppContext.BaseDirectory}"), ".ci", "github-descriptions");
        var pinned = JsonNode.Parse(File.ReadAllText(Path.Combine(packages, "package.json")))!["dependencies"]!;
        var openApiVersion = Installed(packages, "@octokit/openapi", pinned);
        var webhooksVersion = Installed(packages, "@octokit/webhooks-schemas", pinned);
        var openApi = JsonNode.Parse(File.ReadAllText(Path.Combine(packages, "node_modules", "@octokit", "openapi", "generated", "api.github.com.json")))!.AsObject();
        var webhooks = JsonNode.Parse(File.ReadAllText(Path.Combine(packages, "node_modules", "@octokit", "webhooks-schemas", "schema.json")))!.AsObject();
        return new PublishedDescriptions(openApi, webhooks, openApiVersion, webhooksVersion);
    }

    private static string Installed(string packages, string name, JsonNode pinned)
    {
        var want = pinned[name]!.GetValue<string>();
        var manifest = Path.Combine(packages, "node_modules", name, "package.json");
        var have = File.Exists(manifest) ? JsonNode.Parse(File.ReadAllText(manifest))!["version"]!.GetValue<string>() : null;
        if (have != want)
        {
            throw new InvalidOperationException(
                $"GitHub's published description {name} {want} is {(have is null ? "not installed" : $"installed as {have}")} in {packages}/node_modules: run .ci/prereqs");
        }

        return have;
    }
}
