using System.Globalization;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>meta.k8s.io/v1 Table answers (what `kubectl get` prints) with columns per resource.</summary>
internal static class Tables
{
    private sealed record Column(string Name, string Type, string Description, Func<JsonObject, DateTimeOffset, JsonNode?> Cell);

    public static bool Wanted(string? accept) => accept is not null && accept.Contains("as=Table", StringComparison.OrdinalIgnoreCase);

    public static JsonObject Build(KubeResource r, IEnumerable<JsonObject> items, long resourceVersion, string? includeObject)
    {
        var columns = ColumnsFor(r);
        var now = DateTimeOffset.UtcNow;
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["columnDefinitions"] = new JsonArray(columns.Select((c, i) => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = i == 0 ? "name" : "",
                ["description"] = c.Description,
                ["priority"] = 0,
            }).ToArray()),
            ["rows"] = new JsonArray(items.Select(o => (JsonNode)Row(o, columns, now, includeObject)).ToArray()),
        };
    }

    private static JsonObject Row(JsonObject obj, IReadOnlyList<Column> columns, DateTimeOffset now, string? includeObject)
    {
        var row = new JsonObject { ["cells"] = new JsonArray(columns.Select(c => c.Cell(obj, now)).ToArray()) };
        switch (includeObject)
        {
            case "None":
                break;
            case "Object":
                row["object"] = obj.DeepClone();
                break;
            default:
                row["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = obj["metadata"]?.DeepClone(),
                };
                break;
        }
        return row;
    }

    private static IReadOnlyList<Column> ColumnsFor(KubeResource r)
    {
        var name = new Column("Name", "string", "Name must be unique within a namespace.", (o, _) => Meta(o, "name"));
        var age = new Column("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created.", Age);
        if (r == KubeResource.VirtualMachines)
        {
            return
            [
                name, age,
                new("Status", "string", "Human readable status", (o, _) => o["status"]?["printableStatus"]?.ToString() ?? ""),
                new("Ready", "string", "Whether the VM is ready", (o, _) => o["status"]?["ready"] is { } ready ? (ready.GetValue<bool>() ? "True" : "False") : "False"),
                new("Session", "string", "blip.io/session-id", (o, _) => Annotation(o, "blip.io/session-id")),
                new("Repo", "string", "blip.io/runner-repo", (o, _) => Annotation(o, "blip.io/runner-repo")),
                new("Job", "string", "blip.io/runner-job-id", (o, _) => Annotation(o, "blip.io/runner-job-id")),
            ];
        }
        if (r == KubeResource.VirtualMachineInstances)
        {
            return
            [
                name, age,
                new("Phase", "string", "Phase", (o, _) => o["status"]?["phase"]?.ToString() ?? ""),
                new("IP", "string", "The IP address of the VirtualMachineInstance", (o, _) => o["status"]?["interfaces"]?[0]?["ipAddress"]?.ToString() ?? ""),
                new("Ready", "string", "Whether the VMI is ready", (o, _) => Condition(o, "Ready")),
            ];
        }
        if (r == KubeResource.ConfigMaps)
        {
            return [name, new("Data", "integer", "Number of entries in data", (o, _) => DataCount(o)), age];
        }

        if (r == KubeResource.Secrets)
        {
            return [name, new("Type", "string", "The type of the secret", (o, _) => o["type"]?.ToString() ?? ""), new("Data", "integer", "Number of entries in data", (o, _) => DataCount(o)), age];
        }

        if (r == KubeResource.Namespaces)
        {
            return [name, new("Status", "string", "The status of the namespace", (o, _) => o["status"]?["phase"]?.ToString() ?? ""), age];
        }

        return [name, age];
    }

    private static string Meta(JsonObject o, string key) => o["metadata"]?[key]?.ToString() ?? "";

    private static string Annotation(JsonObject o, string key) =>
        o["metadata"]?["annotations"]?[key]?.ToString() ?? o["metadata"]?["labels"]?[key]?.ToString() ?? "";

    private static string Condition(JsonObject o, string type) =>
        (o["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == type)?["status"]?.ToString() ?? "False";

    private static int DataCount(JsonObject o) =>
        ((o["data"] as JsonObject)?.Count ?? 0) + ((o["binaryData"] as JsonObject)?.Count ?? 0);

    private static JsonNode? Age(JsonObject o, DateTimeOffset now) =>
        DateTimeOffset.TryParse(Meta(o, "creationTimestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? HumanDuration(now - created)
            : "<unknown>";

    /// <summary>kubectl's short age format: 45s, 5m30s, 95m, 5h30m, 2d4h, 30d, 3y.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 120)
        {
            return $"{seconds}s";
        }

        var minutes = seconds / 60;
        if (minutes < 10)
        {
            return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        }

        if (minutes < 180)
        {
            return $"{minutes}m";
        }

        var hours = minutes / 60;
        if (hours < 8)
        {
            return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 24 * 8)
        {
            return hours % 24 == 0 ? $"{hours / 24}d" : $"{hours / 24}d{hours % 24}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        return $"{hours / 24 / 365}y";
    }
}
