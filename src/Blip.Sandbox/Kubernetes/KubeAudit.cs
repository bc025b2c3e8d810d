using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>One write as the audit log records it. Annotations are the object's after the write
/// (before it, for a delete); Secret data is never recorded.</summary>
public sealed record AuditEntry(
    DateTimeOffset Time,
    string Verb,
    string Resource,
    string Group,
    string Namespace,
    string Name,
    string User,
    IReadOnlyDictionary<string, string> Annotations,
    string Uid = "")
{
    public JsonObject ToJson()
    {
        var annotations = new JsonObject();
        foreach (var (k, v) in Annotations)
        {
            annotations[k] = v;
        }

        return new JsonObject
        {
            ["time"] = Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
            ["verb"] = Verb,
            ["resource"] = Resource,
            ["group"] = Group,
            ["namespace"] = Namespace,
            ["name"] = Name,
            ["user"] = User,
            ["annotations"] = annotations,
        };
    }
}
