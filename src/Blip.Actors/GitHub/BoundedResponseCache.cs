using Octokit.Caching;
using Octokit.Internal;

namespace Blip.Actors.GitHub;

/// <summary>
/// Validators (ETag) and bodies of GET replies, so the next GET sends If-None-Match and a 304 — which GitHub
/// does not charge to the rate limit — reuses the body. Bounded (least recently used out), one per token:
/// a rotated PAT gets a new client and with it a clean cache.
/// A reply whose endpoint <paramref name="shapes"/> names (by the end of its path) is kept cut down to what its reading type
/// declares (<see cref="ReplyProjection"/>): a run's jobs listing of 100 jobs is ~150 K characters as GitHub sends it and
/// cost every tracked job of that run about 1.5 KiB (dotnet-gcdump of the scale benchmark), ~15 K once cut. It must still
/// be kept: a run that holds queued jobs is read at every poll, and only a kept body lets that read be a free 304.
/// </summary>
/// <param name="shapes">Path ending (e.g. <c>/jobs</c>) → the type its replies are read into.</param>
public sealed class BoundedResponseCache(int capacity = 2048, IReadOnlyDictionary<string, Type>? shapes = null) : IResponseCache
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
        var kept = Cut(request, cachedResponse); // parsed outside the lock: a 100-job listing is ~150 K characters
        lock (_gate)
        {
            if (_index.Remove(key, out var old))
            {
                _order.Remove(old);
            }

            _index[key] = _order.AddFirst((key, kept));
            while (_index.Count > capacity && _order.Last is { } last)
            {
                _order.RemoveLast();
                _index.Remove(last.Value.Key);
            }
        }

        return Task.CompletedTask;
    }

    private CachedResponse.V1 Cut(IRequest request, CachedResponse.V1 response)
    {
        if (shapes is null || response.Body is not string body)
        {
            return response;
        }

        // Octokit's Connection.Get puts the query into the endpoint itself (…/jobs?per_page=100&page=1&filter=latest).
        var path = request.Endpoint.OriginalString.Split('?', 2)[0].TrimEnd('/');
        var shape = shapes.FirstOrDefault(s => path.EndsWith(s.Key, StringComparison.Ordinal)).Value;
        return shape is not null && ReplyProjection.Project(body, shape) is { } cut
            ? new CachedResponse.V1(cut, response.Headers, response.ApiInfo, response.StatusCode, response.ContentType)
            : response;
    }

    private static string KeyOf(IRequest request)
    {
        var parameters = request.Parameters is { Count: > 0 } p
            ? "?" + string.Join("&", p.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value))
            : "";
        return request.Method + " " + request.Endpoint + parameters;
    }
}
