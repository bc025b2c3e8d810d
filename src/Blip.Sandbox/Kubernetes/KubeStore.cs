using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// The emulator's object store: every object of every served resource as JSON, one global monotonic
/// resourceVersion, a bounded event history for watch resume, and the audit log. Both the HTTP layer
/// and in-process writers (the VM pool) go through these methods, so every write gets the same
/// resourceVersion, watch event and audit entry. Methods hand out copies; callers may mutate them.
/// </summary>
public sealed partial class KubeStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(KubeResource Resource, string Namespace, string Name), JsonObject> _objects = [];
    private readonly LinkedList<WatchEvent> _history = new();
    private readonly List<WatchSubscription> _watches = [];
    private readonly List<AuditEntry> _audit = [];
    private readonly int _historyLimit;
    private long _resourceVersion;
    private long _compactedThrough;
    private readonly Dictionary<KubeResource, long> _kindExpiredThrough = [];

    public KubeStore(int watchHistory, IEnumerable<string> namespaces)
    {
        _historyLimit = Math.Max(1, watchHistory);
        foreach (var ns in namespaces)
            Create(KubeResource.Namespaces, "", new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, "system");
    }

    public long CurrentResourceVersion
    {
        get { lock (_gate) return _resourceVersion; }
    }

    public IReadOnlyList<AuditEntry> Audit
    {
        get { lock (_gate) return _audit.ToList(); }
    }

    public JsonObject Get(KubeResource r, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((r, NsOf(r, ns), name), out var obj)
                ? obj.DeepClone().AsObject()
                : throw KubeApiException.NotFound(r, name);
        }
    }

    public JsonObject? TryGet(KubeResource r, string ns, string name)
    {
        lock (_gate) return _objects.TryGetValue((r, NsOf(r, ns), name), out var obj) ? obj.DeepClone().AsObject() : null;
    }

    /// <summary>Objects of one resource (ns null = all namespaces) matching the selector, by name, and the list's resourceVersion.</summary>
    public (IReadOnlyList<JsonObject> Items, long ResourceVersion) List(KubeResource r, string? ns, Selector? selector = null)
    {
        lock (_gate)
        {
            var items = _objects
                .Where(kv => kv.Key.Resource == r && (ns is null || kv.Key.Namespace == NsOf(r, ns)) && (selector?.Matches(kv.Value) ?? true))
                .OrderBy(kv => kv.Key.Namespace, StringComparer.Ordinal).ThenBy(kv => kv.Key.Name, StringComparer.Ordinal)
                .Select(kv => kv.Value.DeepClone().AsObject())
                .ToList();
            return (items, _resourceVersion);
        }
    }

    public JsonObject Create(KubeResource r, string ns, JsonObject obj, string user, bool dryRun = false)
    {
        lock (_gate)
        {
            ns = NsOf(r, ns);
            obj = obj.DeepClone().AsObject();
            CheckTypeMeta(r, obj);
            var meta = Metadata(obj);
            var name = meta["name"]?.GetValue<string>();
            if (string.IsNullOrEmpty(name))
            {
                var prefix = meta["generateName"]?.GetValue<string>();
                if (string.IsNullOrEmpty(prefix))
                    throw new KubeApiException(422, "Invalid", $"{r.Kind} \"\" is invalid: metadata.name: Required value: name or generateName is required");
                do name = prefix + RandomSuffix(5);
                while (_objects.ContainsKey((r, ns, name)));
                meta["name"] = name;
            }
            ValidateName(r, name);
            CheckNamespace(r, ns, meta);
            if (_objects.ContainsKey((r, ns, name))) throw KubeApiException.AlreadyExists(r, name);

            if (r.Namespaced) meta["namespace"] = ns;
            else meta.Remove("namespace");
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
            meta.Remove("deletionTimestamp");
            if (r.IsCustomResource) meta["generation"] = 1L;
            Normalize(r, obj);
            if (dryRun) return obj;
            return Commit(r, ns, name, obj, previous: null, WatchEvent.Added, "create", user);
        }
    }

    /// <summary>PUT semantics: a metadata.resourceVersion that is not the current one is a 409; none is unconditional.</summary>
    public JsonObject Update(KubeResource r, string ns, string name, JsonObject obj, string user, bool dryRun = false)
    {
        lock (_gate)
        {
            ns = NsOf(r, ns);
            obj = obj.DeepClone().AsObject();
            CheckTypeMeta(r, obj);
            var meta = Metadata(obj);
            var bodyName = meta["name"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(bodyName) && bodyName != name)
                throw KubeApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            CheckNamespace(r, ns, meta);
            var current = _objects.GetValueOrDefault((r, ns, name)) ?? throw KubeApiException.NotFound(r, name);
            var expected = meta["resourceVersion"]?.GetValue<string>();
            // Custom resources refuse an unconditional update (built-in types allow it).
            if (string.IsNullOrEmpty(expected) && r.IsCustomResource)
                throw KubeApiException.Invalid(r, name, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
            if (!string.IsNullOrEmpty(expected) && expected != current["metadata"]!["resourceVersion"]!.GetValue<string>())
                throw KubeApiException.Conflict(r, name);
            return Replace(r, ns, name, current, obj, "update", user, dryRun, keepStatus: r.HasStatusSubresource);
        }
    }

    /// <summary>PATCH: merge-patch, strategic-merge-patch (built-in types only; their fields are maps) or json-patch.</summary>
    public JsonObject Patch(KubeResource r, string ns, string name, string contentType, string body, string user, bool dryRun = false)
    {
        lock (_gate)
        {
            ns = NsOf(r, ns);
            var current = _objects.GetValueOrDefault((r, ns, name)) ?? throw KubeApiException.NotFound(r, name);
            JsonNode? patch;
            try
            {
                patch = JsonNode.Parse(body);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
            {
                throw KubeApiException.BadRequest($"error decoding patch: {e.Message}");
            }
            JsonObject updated;
            var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
            switch (mediaType)
            {
                case "application/strategic-merge-patch+json" when r.IsCustomResource:
                    throw new KubeApiException(415, "UnsupportedMediaType",
                        $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
                case "application/merge-patch+json":
                case "application/strategic-merge-patch+json":
                {
                    if (patch is not JsonObject mergePatch) throw KubeApiException.BadRequest("merge patch is not a JSON object");
                    var expected = mergePatch["metadata"]?["resourceVersion"]?.GetValue<string>();
                    if (!string.IsNullOrEmpty(expected) && expected != current["metadata"]!["resourceVersion"]!.GetValue<string>())
                        throw KubeApiException.Conflict(r, name);
                    updated = current.DeepClone().AsObject();
                    Patches.MergeInto(updated, mergePatch);
                    break;
                }
                case "application/json-patch+json":
                {
                    if (patch is not JsonArray ops) throw KubeApiException.BadRequest("json patch is not a JSON array");
                    updated = Patches.ApplyJsonPatch(current, ops) as JsonObject
                              ?? throw KubeApiException.BadRequest("json patch did not produce an object");
                    // The patched object's resourceVersion is the update's precondition, as for any update.
                    var expected = updated["metadata"]?["resourceVersion"]?.GetValue<string>();
                    if (!string.IsNullOrEmpty(expected) && expected != current["metadata"]!["resourceVersion"]!.GetValue<string>())
                        throw KubeApiException.Conflict(r, name);
                    break;
                }
                default:
                    throw new KubeApiException(415, "UnsupportedMediaType",
                        $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json" +
                        (r.IsCustomResource ? "" : ", application/strategic-merge-patch+json"));
            }
            return Replace(r, ns, name, current, updated, "patch", user, dryRun, keepStatus: r.HasStatusSubresource);
        }
    }

    /// <summary>Read-modify-write under the store's lock, for in-process writers (the VM pool).</summary>
    public JsonObject Mutate(KubeResource r, string ns, string name, Action<JsonObject> change, string user)
    {
        lock (_gate)
        {
            ns = NsOf(r, ns);
            var current = _objects.GetValueOrDefault((r, ns, name)) ?? throw KubeApiException.NotFound(r, name);
            var updated = current.DeepClone().AsObject();
            change(updated);
            return Replace(r, ns, name, current, updated, "update", user, dryRun: false);
        }
    }

    public JsonObject Delete(KubeResource r, string ns, string name, string user, string? preconditionUid = null,
        string? preconditionResourceVersion = null, bool dryRun = false)
    {
        lock (_gate)
        {
            ns = NsOf(r, ns);
            var current = _objects.GetValueOrDefault((r, ns, name)) ?? throw KubeApiException.NotFound(r, name);
            var meta = current["metadata"]!;
            if (preconditionUid is not null && preconditionUid != meta["uid"]?.GetValue<string>())
                throw new KubeApiException(409, "Conflict",
                    $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": Precondition failed: UID in precondition: {preconditionUid}, UID in object meta: {meta["uid"]}",
                    KubeStatus.DetailsOf(r, name));
            if (preconditionResourceVersion is not null && preconditionResourceVersion != meta["resourceVersion"]?.GetValue<string>())
                throw new KubeApiException(409, "Conflict",
                    $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": Precondition failed: ResourceVersion in precondition: {preconditionResourceVersion}, ResourceVersion in object meta: {meta["resourceVersion"]}",
                    KubeStatus.DetailsOf(r, name));
            var gone = current.DeepClone().AsObject();
            if (meta["finalizers"] is JsonArray { Count: > 0 })
            {
                // Finalizers: the delete only marks the object (MODIFIED); it goes when the last finalizer is removed.
                if (meta["deletionTimestamp"] is not null || dryRun) return gone;
                gone["metadata"]!["deletionTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
                gone["metadata"]!["deletionGracePeriodSeconds"] = 0;
                return Commit(r, ns, name, gone, current, WatchEvent.Modified, "delete", user);
            }
            if (dryRun) return gone;
            _objects.Remove((r, ns, name));
            var rv = ++_resourceVersion;
            gone["metadata"]!["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
            Record(new WatchEvent(WatchEvent.Deleted, r, ns, gone, current, rv), "delete", name, user);
            return gone.DeepClone().AsObject();
        }
    }

    /// <summary>Opens a watch. No resourceVersion (or "0") starts with an ADDED per current object; a
    /// version sends every later event; a version older than the kept history throws 410 Expired.
    /// <paramref name="droppable"/> false keeps an in-process watcher (the VM pool) out of <see cref="DropWatches"/>.</summary>
    public WatchSubscription Watch(KubeResource r, string? ns, Selector selector, string? resourceVersion, bool droppable = true)
    {
        lock (_gate)
        {
            var sub = new WatchSubscription(r, ns is null ? null : NsOf(r, ns), selector, Unsubscribe) { Droppable = droppable };
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                foreach (var (key, obj) in _objects.Where(kv => kv.Key.Resource == r).OrderBy(kv => ResourceVersionOf(kv.Value)))
                    sub.Offer(new WatchEvent(WatchEvent.Added, r, key.Namespace, obj.DeepClone().AsObject(), null, ResourceVersionOf(obj)));
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                    throw KubeApiException.BadRequest($"invalid resource version: {resourceVersion}");
                if (from < _compactedThrough)
                    throw KubeApiException.Expired($"too old resource version: {from} ({_compactedThrough + 1})");
                if (_kindExpiredThrough.TryGetValue(r, out var expiredThrough) && from < expiredThrough)
                    throw KubeApiException.Expired($"too old resource version: {from} ({expiredThrough})");
                foreach (var e in _history.Where(e => e.ResourceVersion > from)) sub.Offer(e);
            }
            _watches.Add(sub);
            return sub;
        }
    }

    /// <summary>Ends every open (droppable) watch, as an API server restart or a load balancer would.</summary>
    public int DropWatches() => CloseWatches(all: false);

    /// <summary>Forgets the whole event history, as etcd's compaction does: a watch resumed from any version before
    /// the current one gets 410 Gone and must list again.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _history.Clear();
            _compactedThrough = _resourceVersion;
        }
    }

    /// <summary>
    /// Expires one resource kind's watch history alone, as the API server's per-resource watch cache does when
    /// it restarts or falls behind: every open (droppable) watch of <paramref name="r"/> ends, and a watch of it
    /// resumed from any version issued before now gets 410 Gone and must list again. Other kinds keep streaming
    /// and resume as before. Returns how many watches were ended.
    /// </summary>
    public int ExpireWatches(KubeResource r)
    {
        lock (_gate)
        {
            // A fresh version (no object changes: etcd's revision moves for every kind) so a list made after this
            // returns one that is not expired.
            _kindExpiredThrough[r] = ++_resourceVersion;
            var dropped = _watches.Where(w => w.Droppable && w.Resource == r).ToList();
            foreach (var w in dropped)
            {
                _watches.Remove(w);
                w.Close();
            }
            return dropped.Count;
        }
    }

    /// <summary>How many watches of <paramref name="r"/> clients hold open (in-process ones not counted).</summary>
    public int OpenWatches(KubeResource r)
    {
        lock (_gate) return _watches.Count(w => w.Droppable && w.Resource == r);
    }

    /// <summary>Ends every watch, in-process ones included (shutdown).</summary>
    public int CloseAllWatches() => CloseWatches(all: true);

    private int CloseWatches(bool all)
    {
        lock (_gate)
        {
            var dropped = _watches.Where(w => all || w.Droppable).ToList();
            foreach (var w in dropped)
            {
                _watches.Remove(w);
                w.Close();
            }
            return dropped.Count;
        }
    }

    private void Unsubscribe(WatchSubscription sub)
    {
        lock (_gate) _watches.Remove(sub);
    }

    /// <param name="keepStatus">A write to the main resource of a kind with a status subresource: <c>status</c> stays as it
    /// was (in-process writers, the pool standing in for KubeVirt's controllers, write it as the status subresource would).</param>
    private JsonObject Replace(KubeResource r, string ns, string name, JsonObject current, JsonObject updated, string verb, string user, bool dryRun, bool keepStatus = false)
    {
        if (keepStatus)
        {
            if (current["status"] is { } status) updated["status"] = status.DeepClone();
            else updated.Remove("status");
        }

        var meta = Metadata(updated);
        var was = current["metadata"]!.AsObject();
        // Identity and server-owned fields are never taken from the client.
        foreach (var key in new[] { "name", "namespace", "uid", "creationTimestamp", "generateName", "deletionTimestamp", "generation" })
        {
            if (was[key] is { } value) meta[key] = value.DeepClone();
            else meta.Remove(key);
        }
        meta["resourceVersion"] = was["resourceVersion"]!.DeepClone();
        updated["kind"] = r.Kind;
        updated["apiVersion"] = r.ApiVersion;
        Normalize(r, updated);
        if (JsonNode.DeepEquals(updated, current)) return current.DeepClone().AsObject();
        if (r.IsCustomResource && !JsonNode.DeepEquals(updated["spec"], current["spec"]))
            meta["generation"] = LongOf(was["generation"]) + 1;
        if (dryRun) return updated;
        if (was["deletionTimestamp"] is not null && (meta["finalizers"] as JsonArray ?? []).Count == 0)
        {
            // The last finalizer of a terminating object is gone: the object goes (DELETED).
            _objects.Remove((r, ns, name));
            var rv = ++_resourceVersion;
            meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
            Record(new WatchEvent(WatchEvent.Deleted, r, ns, updated.DeepClone().AsObject(), current, rv), verb, name, user);
            return updated.DeepClone().AsObject();
        }
        return Commit(r, ns, name, updated, current, WatchEvent.Modified, verb, user);
    }

    private JsonObject Commit(KubeResource r, string ns, string name, JsonObject obj, JsonObject? previous, string type, string verb, string user)
    {
        var rv = ++_resourceVersion;
        obj["metadata"]!["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        _objects[(r, ns, name)] = obj;
        Record(new WatchEvent(type, r, ns, obj.DeepClone().AsObject(), previous, rv), verb, name, user);
        return obj.DeepClone().AsObject();
    }

    private void Record(WatchEvent e, string verb, string name, string user)
    {
        _history.AddLast(e);
        while (_history.Count > _historyLimit)
        {
            _compactedThrough = _history.First!.Value.ResourceVersion;
            _history.RemoveFirst();
        }
        foreach (var w in _watches) w.Offer(e);

        var annotations = new Dictionary<string, string>();
        if (e.Object["metadata"]?["annotations"] is JsonObject a)
        {
            foreach (var (k, v) in a)
            {
                // kubectl apply copies a Secret's data into last-applied-configuration: keep it out.
                annotations[k] = e.Resource == KubeResource.Secrets && k == LastAppliedAnnotation ? "<redacted>" : v?.ToString() ?? "";
            }
        }
        _audit.Add(new AuditEntry(DateTimeOffset.UtcNow, verb, e.Resource.Plural, e.Resource.Group, e.Namespace, name, user, annotations,
            e.Object["metadata"]?["uid"]?.GetValue<string>() ?? ""));
    }

    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    private void CheckNamespace(KubeResource r, string ns, JsonObject meta)
    {
        if (!r.Namespaced) return;
        var bodyNs = meta["namespace"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
            throw KubeApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        if (!_objects.ContainsKey((KubeResource.Namespaces, "", ns)))
            throw new KubeApiException(404, "NotFound", $"namespaces \"{ns}\" not found", KubeStatus.DetailsOf(KubeResource.Namespaces, ns));
    }

    private static void CheckTypeMeta(KubeResource r, JsonObject obj)
    {
        var kind = obj["kind"]?.GetValue<string>();
        var apiVersion = obj["apiVersion"]?.GetValue<string>();
        if ((!string.IsNullOrEmpty(kind) && kind != r.Kind) || (!string.IsNullOrEmpty(apiVersion) && apiVersion != r.ApiVersion))
            throw KubeApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({r.ApiVersion}) or kind ({kind}) is not {r.Kind}");
        obj["kind"] = r.Kind;
        obj["apiVersion"] = r.ApiVersion;
    }

    private static void Normalize(KubeResource r, JsonObject obj)
    {
        var meta = Metadata(obj);
        foreach (var key in new[] { "labels", "annotations" })
        {
            if (meta.ContainsKey(key) && meta[key] is not JsonObject) meta.Remove(key);
        }
        if (r == KubeResource.Secrets)
        {
            obj["type"] ??= "Opaque";
            if (obj["stringData"] is JsonObject stringData)
            {
                if (obj["data"] is not JsonObject data) obj["data"] = data = new JsonObject();
                foreach (var (k, v) in stringData)
                    data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(v?.GetValue<string>() ?? ""));
            }
            obj.Remove("stringData");
        }
        if (r == KubeResource.Namespaces)
            obj["status"] ??= new JsonObject { ["phase"] = "Active" };
    }

    private static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject meta) obj["metadata"] = meta = new JsonObject();
        return meta;
    }

    private static void ValidateName(KubeResource r, string name)
    {
        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
            throw KubeApiException.Invalid(r, name,
                $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
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
            for (var i = 0; i < span.Length; i++) span[i] = a[Random.Shared.Next(a.Length)];
        });
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}
