using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>A failed API call; becomes a metav1.Status body with the same code and reason.</summary>
public sealed class KubeApiException(int code, string reason, string message, JsonObject? details = null)
    : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public JsonObject? Details { get; } = details;

    public JsonObject ToStatus() => KubeStatus.Failure(Code, Reason, Message, Details?.DeepClone().AsObject());

    public static KubeApiException NotFound(KubeResource r, string name) =>
        new(404, "NotFound", $"{r.QualifiedName} \"{name}\" not found", KubeStatus.DetailsOf(r, name));

    public static KubeApiException AlreadyExists(KubeResource r, string name) =>
        new(409, "AlreadyExists", $"{r.QualifiedName} \"{name}\" already exists", KubeStatus.DetailsOf(r, name));

    public static KubeApiException Conflict(KubeResource r, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            KubeStatus.DetailsOf(r, name));

    public static KubeApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static KubeApiException Invalid(KubeResource r, string name, string message) =>
        new(422, "Invalid", $"{r.Kind} \"{name}\" is invalid: {message}", KubeStatus.DetailsOf(r, name));

    public static KubeApiException Expired(string message) => new(410, "Expired", message);
}

/// <summary>metav1.Status bodies.</summary>
public static class KubeStatus
{
    public static JsonObject Failure(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (details is not null)
        {
            status["details"] = details;
        }

        return status;
    }

    public static JsonObject Success(KubeResource r, string name, string? uid) =>
        new()
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = new JsonObject { ["name"] = name, ["group"] = r.Group, ["kind"] = r.Plural, ["uid"] = uid },
        };

    public static JsonObject DetailsOf(KubeResource r, string name)
    {
        var d = new JsonObject { ["name"] = name };
        if (r.Group.Length > 0)
        {
            d["group"] = r.Group;
        }

        d["kind"] = r.Plural;
        return d;
    }
}
