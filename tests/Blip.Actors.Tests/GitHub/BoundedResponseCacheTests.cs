using System.Net;
using Blip.Actors.GitHub;
using Octokit.Caching;
using Octokit.Internal;

namespace Blip.Actors.Tests.GitHub;

public sealed class BoundedResponseCacheTests
{
    private static Request Get(string path, Dictionary<string, string>? parameters = null)
    {
        var request = new Request { Method = HttpMethod.Get, BaseAddress = new Uri("https://api.github.com/"), Endpoint = new Uri(path, UriKind.Relative) };
        foreach (var (k, v) in parameters ?? [])
        {
            request.Parameters[k] = v;
        }

        return request;
    }

    private static CachedResponse.V1 Body(string body) =>
        new(body, new Dictionary<string, string> { ["ETag"] = "\"" + body + "\"" }, null!, HttpStatusCode.OK, "application/json");

    [Fact]
    public async Task Entries_are_kept_per_url_and_query()
    {
        var cache = new BoundedResponseCache();
        await cache.SetAsync(Get("repos/a/b/actions/runs", new() { ["status"] = "queued" }), Body("q"));
        await cache.SetAsync(Get("repos/a/b/actions/runs", new() { ["status"] = "in_progress" }), Body("p"));

        Assert.Equal("q", (await cache.GetAsync(Get("repos/a/b/actions/runs", new() { ["status"] = "queued" }))).Body);
        Assert.Equal("p", (await cache.GetAsync(Get("repos/a/b/actions/runs", new() { ["status"] = "in_progress" }))).Body);
        Assert.Null(await cache.GetAsync(Get("repos/a/b/actions/runs")));
    }

    [Fact]
    public async Task The_least_recently_used_entry_leaves_first_when_full()
    {
        var cache = new BoundedResponseCache(capacity: 2);
        await cache.SetAsync(Get("one"), Body("1"));
        await cache.SetAsync(Get("two"), Body("2"));
        _ = await cache.GetAsync(Get("one"));

        await cache.SetAsync(Get("three"), Body("3"));

        Assert.Equal(2, cache.Count);
        Assert.NotNull(await cache.GetAsync(Get("one")));
        Assert.Null(await cache.GetAsync(Get("two")));
    }

    [Fact]
    public async Task A_large_jobs_listing_is_not_kept_and_replaces_what_was_kept_for_its_url()
    {
        var cache = new BoundedResponseCache(maxJobsListingChars: 10);
        await cache.SetAsync(Get("repos/a/b/actions/runs/7/jobs"), Body("small"));
        Assert.Equal("small", (await cache.GetAsync(Get("repos/a/b/actions/runs/7/jobs"))).Body);

        await cache.SetAsync(Get("repos/a/b/actions/runs/7/jobs"), Body(new string('j', 11)));
        // As Octokit's Connection.Get sends it: the query is part of the endpoint.
        await cache.SetAsync(Get("repos/a/b/actions/runs/8/jobs?per_page=100&page=1&filter=latest"), Body(new string('j', 11)));
        await cache.SetAsync(Get("repos/a/b/actions/runs", new() { ["status"] = "queued" }), Body(new string('r', 11)));
        await cache.SetAsync(Get("repos/a/b/actions/runners"), Body(new string('n', 11)));

        // An outdated small body must not stay behind: its ETag would make a 304 hand back old jobs.
        Assert.Null(await cache.GetAsync(Get("repos/a/b/actions/runs/7/jobs")));
        Assert.Null(await cache.GetAsync(Get("repos/a/b/actions/runs/8/jobs?per_page=100&page=1&filter=latest")));
        Assert.Equal(11, ((string)(await cache.GetAsync(Get("repos/a/b/actions/runs", new() { ["status"] = "queued" }))).Body).Length);
        Assert.Equal(11, ((string)(await cache.GetAsync(Get("repos/a/b/actions/runners"))).Body).Length);
    }
}
