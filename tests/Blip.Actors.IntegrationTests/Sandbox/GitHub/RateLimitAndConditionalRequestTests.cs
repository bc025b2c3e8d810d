using System.Net;
using System.Net.Http.Headers;
using Blip.Sandbox.GitHub;
using Octokit;
using Octokit.Caching;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>ETags and 304s that cost nothing, per-token primary budgets, secondary limits.</summary>
public sealed class RateLimitAndConditionalRequestTests() : EmulatorTestBase(Repo)
{
    private const string Repo = "acme/gadgets";
    private const string RunsEndpoint = "GET /repos/{o}/{r}/actions/runs";
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Admin.QueueJobAsync(Repo, ["self-hosted", "blip"]);
    }

    [Fact]
    public async Task A_repeated_get_with_octokits_response_cache_is_a_free_304()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        client.ResponseCache = new MemoryResponseCache();

        var first = await client.Actions.Workflows.Runs.List("acme", "gadgets");
        var remainingAfterFirst = client.GetLastApiInfo().RateLimit.Remaining;
        var second = await client.Actions.Workflows.Runs.List("acme", "gadgets");

        Assert.Equal(first.WorkflowRuns.Select(r => r.Id), second.WorkflowRuns.Select(r => r.Id));
        var stats = (await Admin.GetStatsAsync()).ByEndpoint[RunsEndpoint];
        Assert.Equal(2, stats.Total);
        Assert.Equal(1, stats.Counted);
        Assert.Equal(1, stats.NotModified);
        Assert.Equal(1, stats.ByStatus["304"]);
        Assert.Equal(remainingAfterFirst, client.GetLastApiInfo().RateLimit.Remaining);
    }

    [Fact]
    public async Task If_none_match_gets_304_without_a_body_until_the_resource_changes()
    {
        var (_, token) = OctokitFor.FullAccess(Emulator, Repo);
        using var http = Raw(token);

        using var first = await http.GetAsync("repos/acme/gadgets/actions/runs?status=queued");
        var etag = first.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, "repos/acme/gadgets/actions/runs?status=queued");
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal("4999", notModified.Headers.GetValues("x-ratelimit-remaining").Single());

        await Admin.QueueJobAsync(Repo, ["self-hosted", "blip"]);
        using var afterChange = new HttpRequestMessage(HttpMethod.Get, "repos/acme/gadgets/actions/runs?status=queued");
        afterChange.Headers.IfNoneMatch.Add(etag);
        using var changed = await http.SendAsync(afterChange);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etag, changed.Headers.ETag);

        var stats = await Admin.GetStatsAsync();
        Assert.Equal(3, stats.Total);
        Assert.Equal(2, stats.Counted);
        Assert.Equal(1, stats.NotModified);
        Assert.Equal(2, stats.ByRepo[Repo].Counted);
    }

    [Fact]
    public async Task A_spent_budget_refuses_the_next_call_with_403_and_remaining_zero()
    {
        var (client, token) = OctokitFor.FullAccess(Emulator, Repo);
        await Admin.SetBudgetAsync(token, remaining: 3, resetSeconds: 600);

        var remaining = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            await client.Actions.Workflows.Runs.List("acme", "gadgets");
            var rate = client.GetLastApiInfo().RateLimit;
            Assert.Equal(5000, rate.Limit);
            Assert.InRange(rate.Reset, DateTimeOffset.UtcNow.AddSeconds(590), DateTimeOffset.UtcNow.AddSeconds(610));
            remaining.Add(rate.Remaining);
        }
        var e = await Assert.ThrowsAsync<RateLimitExceededException>(() => client.Actions.Workflows.Runs.List("acme", "gadgets"));
        await Assert.ThrowsAsync<RateLimitExceededException>(() => client.Actions.Workflows.Runs.List("acme", "gadgets"));

        Assert.Equal([2, 1, 0], remaining);
        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Equal(0, e.Remaining);
        var stats = await Admin.GetStatsAsync();
        Assert.Equal(5, stats.Total);
        Assert.Equal(3, stats.Counted);
        Assert.Equal(2, stats.ByEndpoint[RunsEndpoint].ByStatus["403"]);
    }

    [Fact]
    public async Task An_exhaustion_fault_refuses_that_token_only()
    {
        var (spent, spentToken) = OctokitFor.FullAccess(Emulator, Repo);
        var (other, _) = OctokitFor.FullAccess(Emulator, Repo);

        await Admin.SetFaultsAsync(new SandboxFaults(ExhaustedTokens: [new ExhaustedToken(spentToken, ResetSeconds: 60)]));

        var e = await Assert.ThrowsAsync<RateLimitExceededException>(() => spent.Actions.Workflows.Runs.List("acme", "gadgets"));
        Assert.Equal(0, e.Remaining);
        Assert.InRange(e.Reset, DateTimeOffset.UtcNow.AddSeconds(50), DateTimeOffset.UtcNow.AddSeconds(70));
        Assert.Equal(1, (await other.Actions.Workflows.Runs.List("acme", "gadgets")).TotalCount);
    }

    [Fact]
    public async Task Every_authenticated_reply_carries_rate_limit_headers()
    {
        var (_, token) = OctokitFor.FullAccess(Emulator, Repo);
        using var http = Raw(token);

        using var ok = await http.GetAsync("repos/acme/gadgets/actions/runs");
        using var notFound = await http.GetAsync("repos/acme/gadgets/actions/jobs/1");
        using var rateLimit = await http.GetAsync("rate_limit");

        foreach (var reply in new[] { ok, notFound, rateLimit })
        {
            foreach (var header in new[] { "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used", "x-ratelimit-resource" })
            {
                Assert.True(reply.Headers.Contains(header), $"{(int)reply.StatusCode} reply lacks {header}");
            }
        }
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        // GET /rate_limit is free, so it reports the two calls before it.
        Assert.Equal("2", rateLimit.Headers.GetValues("x-ratelimit-used").Single());
    }

    [Fact]
    public async Task A_secondary_limit_answers_with_retry_after_until_it_has_passed()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        Emulator.SetFaults(new SandboxFaults(SecondaryLimit: new SecondaryLimitFault(Status: 429, RetryAfterSeconds: 1)));

        var e = await Assert.ThrowsAsync<ApiException>(() => client.Actions.Workflows.Runs.List("acme", "gadgets"));
        Assert.Equal((HttpStatusCode)429, e.StatusCode);
        Assert.Equal("1", e.HttpResponse.Headers.Single(h => h.Key.Equals("retry-after", StringComparison.OrdinalIgnoreCase)).Value);

        await Deadline.UntilAsync(async () =>
        {
            try
            {
                await client.Actions.Workflows.Runs.List("acme", "gadgets");
                return true;
            }
            catch (ApiException)
            {
                return false;
            }
        }, ok => ok, TimeSpan.FromSeconds(5), "the secondary limit to pass");
    }

    private HttpClient Raw(string token)
    {
        var http = new HttpClient { BaseAddress = Emulator.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", token);
        http.DefaultRequestHeaders.UserAgent.ParseAdd("blip-tests");
        return http;
    }

    /// <summary>The smallest IResponseCache: what Octokit needs to send If-None-Match.</summary>
    private sealed class MemoryResponseCache : IResponseCache
    {
        private readonly Dictionary<string, CachedResponse.V1> _entries = [];

        public Task<CachedResponse.V1> GetAsync(Octokit.Internal.IRequest request) =>
            Task.FromResult(_entries.GetValueOrDefault(request.Endpoint.ToString())!);

        public Task SetAsync(Octokit.Internal.IRequest request, CachedResponse.V1 cachedResponse)
        {
            _entries[request.Endpoint.ToString()] = cachedResponse;
            return Task.CompletedTask;
        }
    }
}
