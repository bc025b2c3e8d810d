using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Blip.Sandbox.Kubernetes;

/// <summary>A parsed label selector (=, ==, !=, in, notin, exists, !key) or field selector
/// (metadata.name, metadata.namespace); both match against an object's JSON.</summary>
public sealed partial class Selector
{
    private readonly IReadOnlyList<Func<JsonObject, bool>> _requirements;

    private Selector(IReadOnlyList<Func<JsonObject, bool>> requirements) => _requirements = requirements;

    public static readonly Selector Everything = new([]);

    public bool Matches(JsonObject obj) => _requirements.All(r => r(obj));

    public Selector And(Selector other) => new([.. _requirements, .. other._requirements]);

    public static Selector ParseLabels(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var requirements = new List<Func<JsonObject, bool>>();
        foreach (var raw in SplitTopLevel(text))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            var set = SetTerm().Match(term);
            if (set.Success)
            {
                var key = set.Groups[1].Value;
                var values = set.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
                var negate = set.Groups[2].Value == "notin";
                requirements.Add(o => Label(o, key) is { } v ? values.Contains(v) != negate : negate);
            }
            else if (term.StartsWith('!'))
            {
                var key = ValidKey(term[1..].Trim(), text);
                requirements.Add(o => Label(o, key) is null);
            }
            else if (term.Contains("!="))
            {
                var (key, value) = SplitPair(term, "!=", text);
                requirements.Add(o => Label(o, key) != value);
            }
            else if (term.Contains("=="))
            {
                var (key, value) = SplitPair(term, "==", text);
                requirements.Add(o => Label(o, key) == value);
            }
            else if (term.Contains('='))
            {
                var (key, value) = SplitPair(term, "=", text);
                requirements.Add(o => Label(o, key) == value);
            }
            else
            {
                var key = ValidKey(term, text);
                requirements.Add(o => Label(o, key) is not null);
            }
        }
        return new Selector(requirements);
    }

    public static Selector ParseFields(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var requirements = new List<Func<JsonObject, bool>>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var op = raw.Contains("!=") ? "!=" : raw.Contains("==") ? "==" : "=";
            var (field, value) = SplitPair(raw, op, text);
            Func<JsonObject, string?> read = field switch
            {
                "metadata.name" => o => Meta(o, "name"),
                "metadata.namespace" => o => Meta(o, "namespace") ?? "",
                // Events' field labels (kubectl describe matches events on involvedObject's name, namespace, kind and uid).
                "involvedObject.kind" or "involvedObject.namespace" or "involvedObject.name" or "involvedObject.uid"
                    or "involvedObject.apiVersion" or "involvedObject.resourceVersion" or "involvedObject.fieldPath"
                    or "reason" or "reportingComponent" or "source" or "type" => o => Path(o, field),
                _ => throw KubeApiException.BadRequest($"field label not supported: {field}"),
            };
            requirements.Add(op == "!=" ? o => read(o) != value : o => read(o) == value);
        }
        return new Selector(requirements);
    }

    /// <summary>The name a field selector requires exactly (<c>metadata.name=X</c> or <c>==</c>), else null.</summary>
    public static string? ExactName(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        string? name = null;
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (raw.Contains("!="))
            {
                continue;
            }

            var op = raw.Contains("==") ? "==" : "=";
            var i = raw.IndexOf(op, StringComparison.Ordinal);
            if (i > 0 && raw[..i].Trim() == "metadata.name")
            {
                name = raw[(i + op.Length)..].Trim();
            }
        }
        return name;
    }

    private static string? Label(JsonObject o, string key) =>
        o["metadata"]?["labels"]?[key]?.GetValue<string>();

    private static string? Meta(JsonObject o, string key) => o["metadata"]?[key]?.GetValue<string>();

    /// <summary>A dotted field's value, "" when absent (as the API server's field sets have it).</summary>
    private static string Path(JsonObject o, string field)
    {
        JsonNode? node = o;
        foreach (var part in field.Split('.'))
        {
            node = node?[part];
        }

        return node switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var text) => text,
            JsonObject source when field == "source" => source["component"]?.ToString() ?? "",
            _ => node.ToString(),
        };
    }

    private static (string, string) SplitPair(string term, string op, string whole)
    {
        var i = term.IndexOf(op, StringComparison.Ordinal);
        return (ValidKey(term[..i].Trim(), whole), term[(i + op.Length)..].Trim());
    }

    private static string ValidKey(string key, string whole) =>
        key.Length == 0 || key.Any(char.IsWhiteSpace) || key.IndexOfAny(['(', ')', '!', '=']) >= 0
            ? throw KubeApiException.BadRequest($"unable to parse requirement: invalid selector: '{whole}'")
            : key;

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(')
            {
                depth++;
            }
            else if (text[i] == ')')
            {
                depth--;
            }
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    [GeneratedRegex(@"^([^\s!=()]+)\s+(in|notin)\s*\((.*)\)$")]
    private static partial Regex SetTerm();
}
