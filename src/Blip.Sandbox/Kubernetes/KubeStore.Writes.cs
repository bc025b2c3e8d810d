using System.Globalization;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>Writes: create, update (PUT), patch, in-process read-modify-write, delete (preconditions, finalizers), and the
/// replace they share (server-owned fields kept, status kept for a status subresource, generation bumped on a spec change).</summary>
public sealed partial class KubeStore
{
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
                {
                    throw new KubeApiException(422, "Invalid", $"{r.Kind} \"\" is invalid: metadata.name: Required value: name or generateName is required");
                }

                do
                {
                    name = prefix + RandomSuffix(5);
                }
                while (_objects.ContainsKey((r, ns, name)));
                meta["name"] = name;
            }
            ValidateName(r, name);
            CheckNamespace(r, ns, meta);
            if (_objects.ContainsKey((r, ns, name)))
            {
                throw KubeApiException.AlreadyExists(r, name);
            }

            if (r.Namespaced)
            {
                meta["namespace"] = ns;
            }
            else
            {
                meta.Remove("namespace");
            }

            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
            meta.Remove("deletionTimestamp");
            if (r.IsCustomResource)
            {
                meta["generation"] = 1L;
            }

            Normalize(r, obj);
            if (dryRun)
            {
                return obj;
            }

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
            {
                throw KubeApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            }

            CheckNamespace(r, ns, meta);
            var current = _objects.GetValueOrDefault((r, ns, name)) ?? throw KubeApiException.NotFound(r, name);
            var expected = meta["resourceVersion"]?.GetValue<string>();
            // Custom resources refuse an unconditional update (built-in types allow it).
            if (string.IsNullOrEmpty(expected) && r.IsCustomResource)
            {
                throw KubeApiException.Invalid(r, name, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
            }

            if (!string.IsNullOrEmpty(expected) && expected != current["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                throw KubeApiException.Conflict(r, name);
            }

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
                        if (patch is not JsonObject mergePatch)
                        {
                            throw KubeApiException.BadRequest("merge patch is not a JSON object");
                        }

                        var expected = mergePatch["metadata"]?["resourceVersion"]?.GetValue<string>();
                        if (!string.IsNullOrEmpty(expected) && expected != current["metadata"]!["resourceVersion"]!.GetValue<string>())
                        {
                            throw KubeApiException.Conflict(r, name);
                        }

                        updated = current.DeepClone().AsObject();
                        Patches.MergeInto(updated, mergePatch);
                        break;
                    }
                case "application/json-patch+json":
                    {
                        if (patch is not JsonArray ops)
                        {
                            throw KubeApiException.BadRequest("json patch is not a JSON array");
                        }

                        updated = Patches.ApplyJsonPatch(current, ops) as JsonObject
                                  ?? throw KubeApiException.BadRequest("json patch did not produce an object");
                        // The patched object's resourceVersion is the update's precondition, as for any update.
                        var expected = updated["metadata"]?["resourceVersion"]?.GetValue<string>();
                        if (!string.IsNullOrEmpty(expected) && expected != current["metadata"]!["resourceVersion"]!.GetValue<string>())
                        {
                            throw KubeApiException.Conflict(r, name);
                        }

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
            {
                throw new KubeApiException(409, "Conflict",
                    $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": Precondition failed: UID in precondition: {preconditionUid}, UID in object meta: {meta["uid"]}",
                    KubeStatus.DetailsOf(r, name));
            }

            if (preconditionResourceVersion is not null && preconditionResourceVersion != meta["resourceVersion"]?.GetValue<string>())
            {
                throw new KubeApiException(409, "Conflict",
                    $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": Precondition failed: ResourceVersion in precondition: {preconditionResourceVersion}, ResourceVersion in object meta: {meta["resourceVersion"]}",
                    KubeStatus.DetailsOf(r, name));
            }

            var gone = current.DeepClone().AsObject();
            if (meta["finalizers"] is JsonArray { Count: > 0 })
            {
                // Finalizers: the delete only marks the object (MODIFIED); it goes when the last finalizer is removed.
                if (meta["deletionTimestamp"] is not null || dryRun)
                {
                    return gone;
                }

                gone["metadata"]!["deletionTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
                gone["metadata"]!["deletionGracePeriodSeconds"] = 0;
                return Commit(r, ns, name, gone, current, WatchEvent.Modified, "delete", user);
            }
            if (dryRun)
            {
                return gone;
            }

            _objects.Remove((r, ns, name));
            var rv = ++_resourceVersion;
            gone["metadata"]!["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
            Record(new WatchEvent(WatchEvent.Deleted, r, ns, gone, current, rv), "delete", name, user);
            return gone.DeepClone().AsObject();
        }
    }

    /// <param name="keepStatus">A write to the main resource of a kind with a status subresource: <c>status</c> stays as it
    /// was (in-process writers, the pool standing in for KubeVirt's controllers, write it as the status subresource would).</param>
    private JsonObject Replace(KubeResource r, string ns, string name, JsonObject current, JsonObject updated, string verb, string user, bool dryRun, bool keepStatus = false)
    {
        if (keepStatus)
        {
            if (current["status"] is { } status)
            {
                updated["status"] = status.DeepClone();
            }
            else
            {
                updated.Remove("status");
            }
        }

        var meta = Metadata(updated);
        var was = current["metadata"]!.AsObject();
        // Identity and server-owned fields are never taken from the client.
        foreach (var key in new[] { "name", "namespace", "uid", "creationTimestamp", "generateName", "deletionTimestamp", "generation" })
        {
            if (was[key] is { } value)
            {
                meta[key] = value.DeepClone();
            }
            else
            {
                meta.Remove(key);
            }
        }
        meta["resourceVersion"] = was["resourceVersion"]!.DeepClone();
        updated["kind"] = r.Kind;
        updated["apiVersion"] = r.ApiVersion;
        Normalize(r, updated);
        if (JsonNode.DeepEquals(updated, current))
        {
            return current.DeepClone().AsObject();
        }

        if (r.IsCustomResource && !JsonNode.DeepEquals(updated["spec"], current["spec"]))
        {
            meta["generation"] = LongOf(was["generation"]) + 1;
        }

        if (dryRun)
        {
            return updated;
        }

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
}
