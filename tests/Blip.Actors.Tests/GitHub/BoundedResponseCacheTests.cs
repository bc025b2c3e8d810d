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

    // One job as GitHub's "list jobs for a workflow run" sends it (fields of @octokit/openapi's job schema).
    private static string GitHubJob(long id) => $$"""
        {"id":{{id}},"run_id":7,"workflow_name":"CI","head_branch":"main","run_url":"https://api.github.com/repos/a/b/actions/runs/7",
         "run_attempt":1,"node_id":"CR_kwDOABCD{{id}}","head_sha":"f83a356604ae3c5d03e1b46ef4d1ca77d64a90b0",
         "url":"https://api.github.com/repos/a/b/actions/jobs/{{id}}","html_url":"https://github.com/a/b/actions/runs/7/job/{{id}}",
         "status":"queued","conclusion":null,"created_at":"2026-12-02T10:00:00Z","started_at":"2026-12-02T10:00:00Z","completed_at":null,
         "name":"build (ubuntu, {{id}})","steps":[{"name":"Set up job","status":"queued","conclusion":null,"number":1,"started_at":null,"completed_at":null}],
         "check_run_url":"https://api.github.com/repos/a/b/check-runs/{{id}}","labels":["self-hosted","blip","x64"],
         "runner_id":null,"runner_name":null,"runner_group_id":null,"runner_group_name":null}
        """;

    [Fact]
    public async Task A_jobs_listing_is_kept_cut_to_what_discovery_reads_and_reads_back_the_same()
    {
        var listing = $$"""{"total_count":100,"jobs":[{{string.Join(",", Enumerable.Range(1, 100).Select(i => GitHubJob(1000 + i)))}}]}""";
        var request = Get("repos/a/b/actions/runs/7/jobs?per_page=100&page=1&filter=latest");
        var cache = new BoundedResponseCache(shapes: OctokitGitHubActions.ReplyShapes);

        await cache.SetAsync(request, Body(listing));
        var kept = await cache.GetAsync(request);

        var body = Assert.IsType<string>(kept.Body);
        Assert.InRange(body.Length, 1, listing.Length / 4);
        Assert.Equal(Body(listing).Headers["ETag"], kept.Headers["ETag"]);
        var serializer = new SimpleJsonSerializer();
        var original = serializer.Deserialize<OctokitGitHubActions.JobsPage>(listing);
        var read = serializer.Deserialize<OctokitGitHubActions.JobsPage>(body);
        Assert.Equal(100, read.TotalCount);
        Assert.Equal(
            original.Jobs!.Select(j => (j.Id, j.RunId, j.Name, j.Status, string.Join(",", j.Labels!), j.CreatedAt)),
            read.Jobs!.Select(j => (j.Id, j.RunId, j.Name, j.Status, string.Join(",", j.Labels!), j.CreatedAt)));
        Assert.DoesNotContain("steps", body);
    }

    [Fact]
    public async Task A_reply_of_an_endpoint_without_a_shape_or_not_a_json_object_is_kept_as_sent()
    {
        var cache = new BoundedResponseCache(shapes: OctokitGitHubActions.ReplyShapes);
        const string runners = """{"total_count":1,"runners":[{"id":1,"name":"r","os":"linux","status":"online","busy":false,"labels":[]}]}""";
        await cache.SetAsync(Get("repos/a/b/actions/runners"), Body(runners));
        await cache.SetAsync(Get("repos/a/b/actions/runs/7/jobs"), Body("not json"));

        Assert.Equal(runners, (await cache.GetAsync(Get("repos/a/b/actions/runners"))).Body);
        Assert.Equal("not json", (await cache.GetAsync(Get("repos/a/b/actions/runs/7/jobs"))).Body);
    }
}
