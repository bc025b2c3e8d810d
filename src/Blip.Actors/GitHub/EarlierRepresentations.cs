namespace Blip.Actors.GitHub;

/// <summary>
/// Makes a listing that went back to an earlier state free: a GET that already carries If-None-Match (Octokit's cache sends
/// the last ETag) also names the ETags of the few earlier small bodies seen at that URL, and a 304 naming one of those is
/// handed on as a 200 with that body. The queued-runs list of a repo goes from empty to one run and back to empty with
/// every job: without this the return to empty is a 200 and counts against the rate limit; with it, a 304 (RFC 9110
/// 13.1.2: a list of entity tags; a 304 carries the ETag of the current representation). Not verified against GitHub
/// itself: a server that compared the whole header with one tag would answer 200 even when the current tag is in the
/// list, and every poll of an unchanged list would count. So a 200 whose ETag is one the request named turns lists off
/// for good (<see cref="ListsIgnored"/>): one counted request, then conditional requests exactly as without this handler.
/// A 304 without an ETag cannot say which body it means: the request is sent again with Octokit's tag alone.
/// </summary>
public sealed class EarlierRepresentations(int maxUrls = 256, int maxBodyBytes = 16 * 1024, int perUrl = 3) : DelegatingHandler
{
    private const string IfNoneMatch = "If-None-Match";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Url, List<Representation> Seen)>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Url, List<Representation> Seen)> _order = new();
    private bool _listsIgnored;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var url = request.RequestUri?.ToString() ?? "";
        if (request.Method != HttpMethod.Get)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var sent = request.Headers.TryGetValues(IfNoneMatch, out var sentValues) ? string.Join(", ", sentValues) : null;
        var earlier = sent is null || Volatile.Read(ref _listsIgnored) ? [] : Earlier(url, sent);
        if (earlier.Count > 0)
        {
            request.Headers.Remove(IfNoneMatch);
            request.Headers.TryAddWithoutValidation(IfNoneMatch, string.Join(", ", [sent, .. earlier.Select(r => r.ETag)]));
        }

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (earlier.Count > 0 && response.StatusCode == System.Net.HttpStatusCode.NotModified)
        {
            var tag = response.Headers.ETag?.Tag;
            if (tag is null)
            {
                // sent is not null: earlier is only filled for a request that named a tag.
                response.Dispose();
                request.Headers.Remove(IfNoneMatch);
                request.Headers.TryAddWithoutValidation(IfNoneMatch, sent);
                return await base.SendAsync(Copy(request), cancellationToken).ConfigureAwait(false);
            }

            if (earlier.FirstOrDefault(r => Same(r.ETag, tag)) is { } match)
            {
                return Ok(response, match);
            }

            return response;
        }

        if (earlier.Count > 0 && response.StatusCode == System.Net.HttpStatusCode.OK && response.Headers.ETag is { } current
            && sent!.Split(',', StringSplitOptions.TrimEntries).Concat(earlier.Select(r => r.ETag)).Any(t => Same(t, current.ToString())))
        {
            // The server had a tag we named and still sent the body: it does not read If-None-Match as a list.
            Volatile.Write(ref _listsIgnored, true);
        }

        if (response.StatusCode == System.Net.HttpStatusCode.OK && response.Headers.ETag is { } etag)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length <= maxBodyBytes)
            {
                Remember(url, new Representation(etag.ToString(), body, response.Content.Headers.ContentType?.ToString()));
            }
        }

        return response;
    }

    /// <summary>Whether the server showed that it does not read a list of tags (then only Octokit's own tag is sent).</summary>
    public bool ListsIgnored => Volatile.Read(ref _listsIgnored);

    /// <summary>How many URLs have earlier bodies remembered (for tests).</summary>
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

    private List<Representation> Earlier(string url, string sent)
    {
        lock (_gate)
        {
            return _index.TryGetValue(url, out var node)
                ? node.Value.Seen.Where(r => !sent.Split(',', StringSplitOptions.TrimEntries).Any(s => Same(s, r.ETag))).ToList()
                : [];
        }
    }

    private void Remember(string url, Representation representation)
    {
        lock (_gate)
        {
            if (_index.Remove(url, out var node))
            {
                _order.Remove(node);
            }
            else
            {
                node = new LinkedListNode<(string Url, List<Representation> Seen)>((url, []));
            }

            var seen = node.Value.Seen;
            seen.RemoveAll(r => Same(r.ETag, representation.ETag));
            seen.Insert(0, representation);
            if (seen.Count > perUrl)
            {
                seen.RemoveRange(perUrl, seen.Count - perUrl);
            }

            _order.AddFirst(node);
            _index[url] = node;
            while (_index.Count > maxUrls && _order.Last is { } last)
            {
                _order.RemoveLast();
                _index.Remove(last.Value.Url);
            }
        }
    }

    private static HttpResponseMessage Ok(HttpResponseMessage notModified, Representation earlier)
    {
        var ok = new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            RequestMessage = notModified.RequestMessage,
            Version = notModified.Version,
            Content = new ByteArrayContent(earlier.Body),
        };
        foreach (var (name, values) in notModified.Headers)
        {
            ok.Headers.TryAddWithoutValidation(name, values);
        }

        if (earlier.ContentType is { } type)
        {
            ok.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }

        notModified.Dispose();
        return ok;
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version };
        foreach (var (name, values) in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(name, values);
        }

        return copy;
    }

    /// <summary>Weak comparison, as If-None-Match uses: W/"x" matches "x".</summary>
    private static bool Same(string a, string b) => Strip(a) == Strip(b);

    private static string Strip(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;

    private sealed record Representation(string ETag, byte[] Body, string? ContentType);
}
