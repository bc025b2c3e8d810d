using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Blip.Sandbox.Kubernetes;

/// <summary>What the API server checks and fills in on every object: type meta, namespace, name, defaults (a Secret's
/// stringData, a Namespace's phase), timestamps and generated names.</summary>
public sealed partial class KubeStore
{
    private void CheckNamespace(KubeResource r, string ns, JsonObject meta)
    {
        if (!r.Namespaced)
        {
            return;
        }

        var bodyNs = meta["namespace"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
        {
            throw KubeApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        if (!_objects.ContainsKey((KubeResource.Namespaces, "", ns)))
        {
            throw new KubeApiException(404, "NotFound", $"namespaces \"{ns}\" not found", KubeStatus.DetailsOf(KubeResource.Namespaces, ns));
        }
    }

    private static void CheckTypeMeta(KubeResource r, JsonObject obj)
    {
        var kind = obj["kind"]?.GetValue<string>();
        var apiVersion = obj["apiVersion"]?.GetValue<string>();
        if ((!string.IsNullOrEmpty(kind) && kind != r.Kind) || (!string.IsNullOrEmpty(apiVersion) && apiVersion != r.ApiVersion))
        {
            throw KubeApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({r.ApiVersion}) or kind ({kind}) is not {r.Kind}");
        }

        obj["kind"] = r.Kind;
        obj["apiVersion"] = r.ApiVersion;
    }

    private static void Normalize(KubeResource r, JsonObject obj)
    {
        var meta = Metadata(obj);
        foreach (var key in new[] { "labels", "annotations" })
        {
            if (meta.ContainsKey(key) && meta[key] is not JsonObject)
            {
                meta.Remove(key);
            }
        }
        if (r == KubeResource.Secrets)
        {
            // SetDefaults_Secret: an empty type is Opaque too (a protobuf body always carries the field).
            if (string.IsNullOrEmpty(obj["type"]?.ToString()))
            {
                obj["type"] = "Opaque";
            }

            if (obj["stringData"] is JsonObject stringData)
            {
                if (obj["data"] is not JsonObject data)
                {
                    obj["data"] = data = new JsonObject();
                }

                foreach (var (k, v) in stringData)
                {
                    data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(v?.GetValue<string>() ?? ""));
                }
            }
            obj.Remove("stringData");
        }
        if (r == KubeResource.Namespaces)
        {
            obj["status"] ??= new JsonObject { ["phase"] = "Active" };
        }
    }

    private static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject meta)
        {
            obj["metadata"] = meta = new JsonObject();
        }

        return meta;
    }

    private static void ValidateName(KubeResource r, string name)
    {
        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
        {
            throw KubeApiException.Invalid(r, name,
                $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
        }
    }

    /// <summary>A number however it was stored (a JsonValue of int or long, or parsed JSON): 1 when absent.</summary>
    private static long LongOf(JsonNode? node) =>
        node is null ? 1 : long.Parse(node.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static string NsOf(KubeResource r, string? ns) => r.Namespaced ? ns ?? "" : "";

    private static long ResourceVersionOf(JsonObject obj) =>
        long.Parse(obj["metadata"]!["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture);

    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Kubernetes' generateName alphabet (no vowels, no look-alikes).</summary>
    public static string RandomSuffix(int length)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(length, alphabet, (span, a) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = a[Random.Shared.Next(a.Length)];
            }
        });
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}
