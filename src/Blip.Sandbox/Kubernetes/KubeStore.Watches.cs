using System.Globalization;

namespace Blip.Sandbox.Kubernetes;

/// <summary>Watches: opened from a resourceVersion (410 Gone past the kept history or a kind's expiry), dropped, expired per
/// kind, compacted, closed.</summary>
public sealed partial class KubeStore
{
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
                {
                    sub.Offer(new WatchEvent(WatchEvent.Added, r, key.Namespace, obj.DeepClone().AsObject(), null, ResourceVersionOf(obj)));
                }
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    throw KubeApiException.BadRequest($"invalid resource version: {resourceVersion}");
                }

                if (from < _compactedThrough)
                {
                    throw KubeApiException.Expired($"too old resource version: {from} ({_compactedThrough + 1})");
                }

                if (_kindExpiredThrough.TryGetValue(r, out var expiredThrough) && from < expiredThrough)
                {
                    throw KubeApiException.Expired($"too old resource version: {from} ({expiredThrough})");
                }

                foreach (var e in _history.Where(e => e.ResourceVersion > from))
                {
                    sub.Offer(e);
                }
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
        lock (_gate)
        {
            return _watches.Count(w => w.Droppable && w.Resource == r);
        }
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
        lock (_gate)
        {
            _watches.Remove(sub);
        }
    }
}
