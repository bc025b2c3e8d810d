using Octokit.Caching;
using Octokit.Internal;

namespace Blip.Actors.GitHub;

/// <summary>
/// Validators (ETag) and bodies of GET replies, so the next GET sends If-None-Match and a 304 — which GitHub
/// does not charge to the rate limit — reuses the body. Bounded (least recently used out), one per token:
/// a rotated PAT gets a new client and with it a clean cache.
/// </summary>
public sealed class BoundedResponseCache(int capacity = 2048) : IResponseCache
{
    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, CachedResponse.V1 Response)>> _index = [];
    private readonly LinkedList<(string Key, CachedResponse.V1 Response)> _order = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _index.Count;
            }
        }
    }

    public Task<CachedResponse.V1> GetAsync(IRequest request)
    {
        lock (_gate)
        {
            if (_index.TryGetValue(KeyOf(request), out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                return Task.FromResult(node.Value.Response);
            }
        }

        return Task.FromResult<CachedResponse.V1>(null!);
    }

    public Task SetAsync(IRequest request, CachedResponse.V1 cachedResponse)
    {
        var key = KeyOf(request);
        lock (_gate)
        {
            if (_index.Remove(key, out var old))
            {
                _order.Remove(old);
            }

            _index[key] = _order.AddFirst((key, cachedResponse));
            while (_index.Count > capacity && _order.Last is { } last)
            {
                _order.RemoveLast();
                _index.Remove(last.Value.Key);
            }
        }

        return Task.CompletedTask;
    }

    private static string KeyOf(IRequest request)
    {
        var parameters = request.Parameters is { Count: > 0 } p
            ? "?" + string.Join("&", p.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value))
            : "";
        return request.Method + " " + request.Endpoint + parameters;
    }
}
