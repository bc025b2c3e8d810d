using System.Globalization;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// The emulator's object store: every object of every served resource as JSON, one global monotonic
/// resourceVersion, a bounded event history for watch resume, and the audit log. Both the HTTP layer
/// and in-process writers (the VM pool) go through these methods, so every write gets the same
/// resourceVersion, watch event and audit entry. Methods hand out copies; callers may mutate them.
/// </summary>
/// <remarks>
/// The state and its history are here; the partial files beside it hold the writes (<c>KubeStore.Writes.cs</c>), the
/// watches (<c>KubeStore.Watches.cs</c>) and the rules every object is held to (<c>KubeStore.Objects.cs</c>).
/// </remarks>
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
        {
            Create(KubeResource.Namespaces, "", new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, "system");
        }
    }

    public long CurrentResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    public IReadOnlyList<AuditEntry> Audit
    {
        get
        {
            lock (_gate)
            {
                return _audit.ToList();
            }
        }
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
        lock (_gate)
        {
            return _objects.TryGetValue((r, NsOf(r, ns), name), out var obj) ? obj.DeepClone().AsObject() : null;
        }
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
        foreach (var w in _watches)
        {
            w.Offer(e);
        }

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
}
