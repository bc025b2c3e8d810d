using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Blip.Actors.GitHub;

/// <summary>
/// A JSON reply cut down to what a reading type declares: the fields its public properties name, as Octokit's serializer
/// maps them (<c>TotalCount</c> → <c>total_count</c>), recursively into lists of such types. What a 304 hands back from the
/// cache is read into that same type, so the cut loses nothing the controller reads. Pure.
/// </summary>
public static class ReplyProjection
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<Field>> Fields = new();

    /// <summary>The body with only <paramref name="shape"/>'s fields, or null when it is not a JSON object (kept as it is).</summary>
    public static string? Project(string body, Type shape)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject reply ? Project(reply, shape).ToJsonString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Octokit's JSON name of a property: snake case (<c>RunAttempt</c> → <c>run_attempt</c>).</summary>
    public static string JsonName(string propertyName) =>
        string.Concat(propertyName.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    private static JsonObject Project(JsonObject source, Type shape)
    {
        var result = new JsonObject();
        foreach (var field in Fields.GetOrAdd(shape, Describe))
        {
            if (!source.TryGetPropertyValue(field.Name, out var value))
            {
                continue;
            }

            result[field.Name] = field.Items is { } items && value is JsonArray array
                ? new JsonArray([.. array.Select(item => item is JsonObject o ? Project(o, items) : item?.DeepClone())])
                : value?.DeepClone();
        }

        return result;
    }

    private static IReadOnlyList<Field> Describe(Type shape) =>
    [
        .. shape.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .Select(p => new Field(JsonName(p.Name), ItemShape(p.PropertyType))),
    ];

    // The element type of a list of objects (not of strings or numbers), whose items are cut down in turn.
    private static Type? ItemShape(Type type)
    {
        var list = type.IsGenericType && type.GetGenericArguments() is [var element] && typeof(IEnumerable<>).MakeGenericType(element).IsAssignableFrom(type)
            ? element
            : null;
        return list is { IsClass: true } && list != typeof(string) ? list : null;
    }

    private sealed record Field(string Name, Type? Items);
}
