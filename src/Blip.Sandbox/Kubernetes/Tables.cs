using System.Globalization;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>meta.k8s.io/v1 Table answers (what `kubectl get` prints) with columns per resource.</summary>
internal static class Tables
{
    /// <summary>A column as the API server's printers define it; priority 1 columns show with <c>-o wide</c> only.</summary>
    private sealed record Column(string Name, string Type, string Description, Func<JsonObject, DateTimeOffset, JsonNode?> Cell, int Priority = 0, string Format = "");

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
            ["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Description,
                ["priority"] = c.Priority,
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
        var name = new Column("Name", "string", NameDescription, (o, _) => Meta(o, "name"), Format: "name");
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

        if (r == KubeResource.Events)
        {
            return EventTable.Columns;
        }

        if (r == KubeResource.Pods)
        {
            return PodTable.Columns;
        }

        if (r == KubeResource.Namespaces)
        {
            return [name, new("Status", "string", "The status of the namespace", (o, _) => o["status"]?["phase"]?.ToString() ?? ""), age];
        }

        return [name, age];
    }

    private const string NameDescription = "Name must be unique within a namespace.";

    /// <summary>Core v1 events' columns and cells as the API server prints them (pkg/printers/internalversion, printEvent).</summary>
    private static class EventTable
    {
        public static readonly IReadOnlyList<Column> Columns =
        [
            new("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded.", (o, now) => LastSeen(o, now)),
            new("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future", (o, _) => Text(o, "type")),
            new("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", (o, _) => Text(o, "reason")),
            new("Object", "string", "The object that this event is about.", (o, _) => Target(o)),
            new("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.", (o, _) => o["involvedObject"]?["fieldPath"]?.ToString() ?? "", Priority: 1),
            new("Source", "string", "The component reporting this event. Should be a short machine understandable string.", (o, _) => Source(o), Priority: 1),
            new("Message", "string", "A human-readable description of the status of this operation.", (o, _) => Text(o, "message").Trim()),
            new("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", (o, now) => FirstSeen(o, now), Priority: 1),
            new("Count", "string", "The number of times this event has occurred.", (o, _) => Count(o), Priority: 1),
            new("Name", "string", NameDescription, (o, _) => Meta(o, "name"), Priority: 1, Format: "name"),
        ];

        private static string Text(JsonObject o, string key) => o[key]?.ToString() ?? "";

        private static string Target(JsonObject o)
        {
            var kind = (o["involvedObject"]?["kind"]?.ToString() ?? "").ToLowerInvariant();
            var name = o["involvedObject"]?["name"]?.ToString() ?? "";
            return name.Length > 0 ? $"{kind}/{name}" : kind;
        }

        private static string Source(JsonObject o)
        {
            var component = FirstNonEmpty(o["source"]?["component"]?.ToString(), o["reportingComponent"]?.ToString());
            var instance = FirstNonEmpty(o["source"]?["host"]?.ToString(), o["reportingInstance"]?.ToString());
            return instance.Length == 0 ? component : $"{component}, {instance}";
        }

        private static string FirstSeen(JsonObject o, DateTimeOffset now) =>
            Since(FirstNonEmpty(o["firstTimestamp"]?.ToString(), o["eventTime"]?.ToString()), now);

        private static string LastSeen(JsonObject o, DateTimeOffset now) =>
            o["series"]?["lastObservedTime"]?.ToString() is { Length: > 0 } observed ? Since(observed, now)
            : o["lastTimestamp"]?.ToString() is { Length: > 0 } last ? Since(last, now)
            : FirstSeen(o, now);

        private static long Count(JsonObject o) =>
            o["series"]?["count"] is { } series ? long.Parse(series.ToJsonString(), CultureInfo.InvariantCulture)
            : o["count"] is { } count && long.Parse(count.ToJsonString(), CultureInfo.InvariantCulture) is var n && n > 0 ? n
            : 1;

        private static string FirstNonEmpty(string? a, string? b) => string.IsNullOrEmpty(a) ? b ?? "" : a;
    }

    /// <summary>Pods' columns as the API server prints them (printPod): ready containers, status, restarts, age; IP and node wide.</summary>
    private static class PodTable
    {
        public static readonly IReadOnlyList<Column> Columns =
        [
            new("Name", "string", NameDescription, (o, _) => Meta(o, "name"), Format: "name"),
            new("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", (o, _) => $"{Statuses(o).Count(c => c["ready"]?.GetValue<bool>() == true)}/{(o["spec"]?["containers"] as JsonArray)?.Count ?? 0}"),
            new("Status", "string", "The aggregate status of the containers in this pod.", (o, _) => Status(o)),
            new("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", (o, _) => Statuses(o).Sum(c => c["restartCount"]?.GetValue<int>() ?? 0)),
            new("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created.", Age),
            new("IP", "string", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", (o, _) => o["status"]?["podIP"]?.ToString() ?? "<none>", Priority: 1),
            new("Node", "string", "NodeName is a request to schedule this pod onto a specific node.", (o, _) => o["spec"]?["nodeName"]?.ToString() ?? "<none>", Priority: 1),
            new("Nominated Node", "string", "nominatedNodeName is set when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.", (_, _) => "<none>", Priority: 1),
            new("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", (_, _) => "<none>", Priority: 1),
        ];

        private static IEnumerable<JsonObject> Statuses(JsonObject o) => (o["status"]?["containerStatuses"] as JsonArray)?.OfType<JsonObject>() ?? [];

        /// <summary>The phase, or the reason a container is waiting or terminated (Completed, Error), as kubectl shows it.</summary>
        private static string Status(JsonObject o) =>
            Statuses(o).Select(c => c["state"]?["terminated"]?["reason"]?.ToString() ?? c["state"]?["waiting"]?["reason"]?.ToString())
                .FirstOrDefault(reason => !string.IsNullOrEmpty(reason))
            ?? o["status"]?["phase"]?.ToString() ?? "";
    }

    private static string Since(string timestamp, DateTimeOffset now) =>
        DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? HumanDuration(now - t) : "<unknown>";

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
