namespace Blip.Actors.GitHub;

/// <summary>
/// Tells <paramref name="count"/> the status code of every HTTP reply GitHub sends, before Octokit sees it: the
/// only place a 304 (a conditional request answered from the cache, not charged to the rate limit) is visible as
/// such — above it Octokit hands back the cached body as a 200.
/// </summary>
public sealed class HttpStatusCounter(Action<int> count) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        count((int)response.StatusCode);
        return response;
    }
}
