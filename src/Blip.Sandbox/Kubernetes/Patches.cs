using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>JSON merge patch (RFC 7386) and JSON patch (RFC 6902) on <see cref="JsonNode"/> trees.</summary>
public static class Patches
{
    /// <summary>Applies a merge patch to <paramref name="target"/> in place: null removes a key, objects merge, anything else replaces.</summary>
    public static void MergeInto(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject patchChild)
            {
                if (target[key] is not JsonObject targetChild)
                {
                    targetChild = new JsonObject();
                    target[key] = targetChild;
                }
                MergeInto(targetChild, patchChild);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    /// <summary>Applies an RFC 6902 patch (add, remove, replace, move, copy, test) and returns the new document.</summary>
    public static JsonNode ApplyJsonPatch(JsonNode document, JsonArray operations)
    {
        var doc = document.DeepClone();
        foreach (var opNode in operations)
        {
            if (opNode is not JsonObject op)
            {
                throw KubeApiException.BadRequest("json patch operation is not an object");
            }

            var kind = op["op"]?.GetValue<string>() ?? throw KubeApiException.BadRequest("json patch operation has no op");
            var path = op["path"]?.GetValue<string>() ?? throw KubeApiException.BadRequest("json patch operation has no path");
            switch (kind)
            {
                case "add":
                    doc = Add(doc, path, Value(op));
                    break;
                case "remove":
                    Remove(doc, path);
                    break;
                case "replace":
                    Remove(doc, path);
                    doc = Add(doc, path, Value(op));
                    break;
                case "move":
                    {
                        var from = op["from"]?.GetValue<string>() ?? throw KubeApiException.BadRequest("move without from");
                        var moved = Resolve(doc, from).DeepClone();
                        Remove(doc, from);
                        doc = Add(doc, path, moved);
                        break;
                    }
                case "copy":
                    {
                        var from = op["from"]?.GetValue<string>() ?? throw KubeApiException.BadRequest("copy without from");
                        doc = Add(doc, path, Resolve(doc, from).DeepClone());
                        break;
                    }
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(doc, path), op["value"]))
                    {
                        throw new KubeApiException(422, "Invalid", $"the server rejected our request due to an error in our request: test operation failed at {path}");
                    }

                    break;
                default:
                    throw KubeApiException.BadRequest($"Unexpected kind: {kind}");
            }
        }
        return doc;
    }

    private static JsonNode? Value(JsonObject op) =>
        op.TryGetPropertyValue("value", out var v) ? v?.DeepClone() : throw KubeApiException.BadRequest("json patch operation has no value");

    private static string[] Tokens(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        if (path[0] != '/')
        {
            throw KubeApiException.BadRequest($"invalid json pointer: {path}");
        }

        return path[1..].Split('/').Select(t => t.Replace("~1", "/").Replace("~0", "~")).ToArray();
    }

    private static JsonNode Resolve(JsonNode doc, string path)
    {
        var node = doc;
        foreach (var token in Tokens(path))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) && child is not null => child,
                JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count && a[i] is { } item => item,
                _ => throw new KubeApiException(422, "Invalid", $"the server rejected our request due to an error in our request: path {path} does not exist"),
            };
        }
        return node;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode doc, string path)
    {
        var tokens = Tokens(path);
        if (tokens.Length == 0)
        {
            throw KubeApiException.BadRequest("cannot address the document root");
        }

        var parentPath = string.Concat(tokens[..^1].Select(t => "/" + t.Replace("~", "~0").Replace("/", "~1")));
        return (Resolve(doc, parentPath), tokens[^1]);
    }

    private static JsonNode Add(JsonNode doc, string path, JsonNode? value)
    {
        if (path.Length == 0)
        {
            return value ?? throw KubeApiException.BadRequest("cannot replace the document with null");
        }

        var (parent, last) = Parent(doc, path);
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new KubeApiException(422, "Invalid", $"the server rejected our request due to an error in our request: cannot add at {path}");
        }
        return doc;
    }

    private static void Remove(JsonNode doc, string path)
    {
        var (parent, last) = Parent(doc, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(last):
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count:
                a.RemoveAt(i);
                break;
            default:
                throw new KubeApiException(422, "Invalid", $"the server rejected our request due to an error in our request: path {path} does not exist");
        }
    }
}
