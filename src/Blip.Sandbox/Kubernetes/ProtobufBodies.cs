using System.Text;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// Request bodies in <c>application/vnd.kubernetes.protobuf</c>, as kubectl sends built-in types on <c>create</c>
/// (<c>kubectl create secret generic NAME --from-literal=k=v</c>): the <c>k8s\0</c> envelope (runtime.Unknown), then the
/// object in the protobuf wire format, turned into the JSON the store keeps. Secrets, ConfigMaps and Namespaces (what a
/// person creates by hand here); another kind is 415, as the API server answers a body it cannot decode.
/// Field numbers are those of k8s.io/api/core/v1/generated.proto and apimachinery's meta/v1 and runtime.
/// </summary>
internal static class ProtobufBodies
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    public static bool IsProtobuf(string? contentType) =>
        contentType is not null && contentType.StartsWith(MediaType, StringComparison.OrdinalIgnoreCase);

    public static JsonObject Decode(KubeResource r, ReadOnlySpan<byte> body)
    {
        if (!body.StartsWith(Magic))
        {
            throw KubeApiException.BadRequest("the protobuf body does not start with the k8s\\0 envelope");
        }

        string apiVersion = "", kind = "";
        byte[] raw = [];
        try
        {
            foreach (var f in Fields(body[Magic.Length..].ToArray()))
            {
                switch (f.Number)
                {
                    case 1:
                        foreach (var t in Fields(f.Bytes))
                        {
                            if (t.Number == 1)
                            {
                                apiVersion = t.Text;
                            }
                            else if (t.Number == 2)
                            {
                                kind = t.Text;
                            }
                        }

                        break;
                    case 2:
                        raw = f.Bytes;
                        break;
                }
            }

            if (kind != r.Kind || apiVersion != r.ApiVersion)
            {
                throw KubeApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({r.ApiVersion}) or kind ({kind}) is not {r.Kind}");
            }

            var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
            if (r == KubeResource.Secrets)
            {
                DecodeSecret(raw, obj);
            }
            else if (r == KubeResource.ConfigMaps)
            {
                DecodeConfigMap(raw, obj);
            }
            else if (r == KubeResource.Namespaces)
            {
                DecodeNamespace(raw, obj);
            }
            else
            {
                throw Unsupported();
            }

            return obj;
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or OverflowException)
        {
            throw KubeApiException.BadRequest($"error decoding the protobuf {r.Kind}: {e.Message}");
        }
    }

    /// <summary>What the API server answers a body in a media type it does not take for a resource.</summary>
    public static KubeApiException Unsupported(string? contentType = null) => new(415, "UnsupportedMediaType",
        $"the body of the request was in an unknown format{(contentType is null ? "" : $" ({contentType})")} - accepted media types include: application/json, application/yaml");

    private static void DecodeSecret(byte[] raw, JsonObject obj)
    {
        foreach (var f in Fields(raw))
        {
            switch (f.Number)
            {
                case 1: obj["metadata"] = ObjectMeta(f.Bytes); break;
                case 2: Entry(obj, "data", f.Bytes, base64: true); break;
                case 3: obj["type"] = f.Text; break;
                case 4: Entry(obj, "stringData", f.Bytes, base64: false); break;
                case 5: obj["immutable"] = f.Varint != 0; break;
            }
        }
    }

    private static void DecodeConfigMap(byte[] raw, JsonObject obj)
    {
        foreach (var f in Fields(raw))
        {
            switch (f.Number)
            {
                case 1: obj["metadata"] = ObjectMeta(f.Bytes); break;
                case 2: Entry(obj, "data", f.Bytes, base64: false); break;
                case 3: Entry(obj, "binaryData", f.Bytes, base64: true); break;
                case 4: obj["immutable"] = f.Varint != 0; break;
            }
        }
    }

    private static void DecodeNamespace(byte[] raw, JsonObject obj)
    {
        foreach (var f in Fields(raw))
        {
            if (f.Number == 1)
            {
                obj["metadata"] = ObjectMeta(f.Bytes);
            }
        }
    }

    /// <summary>The ObjectMeta fields a client sets on create: name, generateName, namespace, resourceVersion, labels,
    /// annotations, finalizers (the server owns the rest).</summary>
    private static JsonObject ObjectMeta(byte[] raw)
    {
        var meta = new JsonObject();
        foreach (var f in Fields(raw))
        {
            switch (f.Number)
            {
                case 1: meta["name"] = f.Text; break;
                case 2: meta["generateName"] = f.Text; break;
                case 3: meta["namespace"] = f.Text; break;
                case 6: meta["resourceVersion"] = f.Text; break;
                case 11: Entry(meta, "labels", f.Bytes, base64: false); break;
                case 12: Entry(meta, "annotations", f.Bytes, base64: false); break;
                case 14:
                    if (meta["finalizers"] is not JsonArray finalizers)
                    {
                        meta["finalizers"] = finalizers = [];
                    }

                    finalizers.Add(f.Text);
                    break;
            }
        }

        return meta;
    }

    /// <summary>One entry of a protobuf map (a message of key = 1, value = 2) into <c>parent[key]</c>.</summary>
    private static void Entry(JsonObject parent, string key, byte[] entry, bool base64)
    {
        if (parent[key] is not JsonObject map)
        {
            parent[key] = map = new JsonObject();
        }

        string k = "";
        byte[] v = [];
        foreach (var f in Fields(entry))
        {
            if (f.Number == 1)
            {
                k = f.Text;
            }
            else if (f.Number == 2)
            {
                v = f.Bytes;
            }
        }

        map[k] = base64 ? Convert.ToBase64String(v) : Encoding.UTF8.GetString(v);
    }

    private sealed record Field(int Number, ulong Varint, byte[] Bytes)
    {
        public string Text => Encoding.UTF8.GetString(Bytes);
    }

    /// <summary>The fields of one message in the wire format: varints and length-delimited fields; fixed-size ones skipped.</summary>
    private static IEnumerable<Field> Fields(byte[] data)
    {
        var i = 0;
        while (i < data.Length)
        {
            var tag = ReadVarint(data, ref i);
            var number = checked((int)(tag >> 3));
            switch (tag & 7)
            {
                case 0:
                    yield return new Field(number, ReadVarint(data, ref i), []);
                    break;
                case 1:
                    i += 8;
                    break;
                case 2:
                    var length = checked((int)ReadVarint(data, ref i));
                    if (length < 0 || i + length > data.Length)
                    {
                        throw new ArgumentException($"field {number} runs past the end of the message");
                    }

                    yield return new Field(number, 0, data[i..(i + length)]);
                    i += length;
                    break;
                case 5:
                    i += 4;
                    break;
                default:
                    throw new ArgumentException($"field {number} has wire type {tag & 7}, which Kubernetes objects do not use");
            }
        }
    }

    private static ulong ReadVarint(byte[] data, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = data[i++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new ArgumentException("a varint is longer than 10 bytes");
    }
}
