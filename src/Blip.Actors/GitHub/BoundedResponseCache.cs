using Octokit.Caching;
using Octokit.Internal;

namespace Blip.Actors.GitHub;

/// <summary>
/// Validators (ETag) and bodies of GET replies, so the next GET sends If-None-Match and a 304 — which GitHub
/// does not charge to the rate limit — reuses the body. Bounded (least recently used out), one per token:
/// a rotated PAT gets a new client and with it a clean cache.
/// A run's jobs listing is kept only up to <paramref name="maxJobsListingChars"/>: the poller fetches a run's jobs only
/// when the run changed, so the same listing is seldom asked for again unchanged, while a large one (a matrix of 100
/// jobs is ~150 K characters) cost every tracked job of that run about 1.5 KiB (dotnet-gcdump of the scale benchmark).
/// Listings polled on a timer (runs, runners) are kept whatever their size: there a 304 is the rule.
/// </summary>
public sealed class BoundedResponseCache(int capacity = 2048, int maxJobsListingChars = 16 * 1024) : IResponseCache
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

            if (IsJobsListing(request) && cachedResponse.Body is string { Length: var length } && length > maxJobsListingChars)
            {
                return Task.CompletedTask;
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

    // Octokit's Connection.Get puts the query into the endpoint itself (…/jobs?per_page=100&page=1&filter=latest).
    private static bool IsJobsListing(IRequest request) =>
        request.Endpoint.OriginalString.Split('?', 2)[0].TrimEnd('/').EndsWith("/jobs", StringComparison.Ordinal);

    private static string KeyOf(IRequest request)
    {
        var parameters = request.Parameters is { Count: > 0 } p
            ? "?" + string.Join("&", p.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value))
            : "";
        return request.Method + " " + request.Endpoint + parameters;
    }
}
