using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.GitHub;

// The GitHub REST endpoints. Templates name the owner and repo {o} and {r}: the same strings key the
// stats and the faults.
public sealed partial class GitHubEmulator
{
    private void MapRestApi(WebApplication app)
    {
        MapRest(app, "GET", "/rate_limit", Need.Nothing, call => ApiResult.Ok(GitHubJson.RateLimits(_world.PeekRateLimit(call.Pat))));
        MapRest(app, "GET", "/repos/{o}/{r}/actions/runs", Need.ActionsRead, ListRuns);
        MapRest(app, "GET", "/repos/{o}/{r}/actions/runs/{run_id}", Need.ActionsRead, GetRun);
        MapRest(app, "GET", "/repos/{o}/{r}/actions/runs/{run_id}/jobs", Need.ActionsRead, ListJobsOfRun);
        MapRest(app, "GET", "/repos/{o}/{r}/actions/jobs/{job_id}", Need.ActionsRead, GetJob);
        MapRest(app, "GET", "/repos/{o}/{r}/actions/runners", Need.AdministrationRead, ListRunners);
        MapRest(app, "GET", "/repos/{o}/{r}/actions/runners/{runner_id}", Need.AdministrationRead, GetRunner);
        MapRest(app, "DELETE", "/repos/{o}/{r}/actions/runners/{runner_id}", Need.AdministrationWrite, DeleteRunner);
        MapRest(app, "POST", "/repos/{o}/{r}/actions/runners/generate-jitconfig", Need.AdministrationWrite, GenerateJitConfigAsync);
        // actions/runner is public: any token reads its releases.
        MapRest(app, "GET", "/repos/actions/runner/releases", Need.Nothing, ListRunnerReleases);
        // Anything else answers as GitHub does for a path it does not serve.
        app.MapFallback((HttpContext http) => WriteAsync(http, 404, Json(GitHubJson.Error("Not Found", 404)), []));
    }

    /// <summary>The releases <c>GET /repos/actions/runner/releases</c> lists; replace it to publish one.</summary>
    public IReadOnlyList<SandboxRunnerRelease> RunnerReleases { get; set; }

    /// <summary>GitHub's release objects (OpenAPI "release"), newest first; only what a client of the list reads.</summary>
    private ApiResult ListRunnerReleases(ApiCall call)
    {
        var all = RunnerReleases.OrderByDescending(r => r.PublishedAt).ToList();
        var (page, link) = Paginate(call, all);
        var array = new JsonArray();
        var id = 1000;
        foreach (var release in page)
        {
            var tag = "v" + release.Version;
            array.Add(new JsonObject
            {
                ["id"] = ++id,
                ["tag_name"] = tag,
                ["name"] = tag,
                ["draft"] = false,
                ["prerelease"] = release.Prerelease,
                ["created_at"] = release.PublishedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["published_at"] = release.PublishedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["html_url"] = $"https://github.com/actions/runner/releases/tag/{tag}",
                ["url"] = $"{call.ApiBase}repos/actions/runner/releases/{id}",
            });
        }

        return ApiResult.Ok(array, link);
    }

    private const int MaxFilteredRuns = 1000;

    private ApiResult ListRuns(ApiCall call)
    {
        var status = call.Query["status"].ToString();
        var runs = _world.Runs(call.Repo!, string.IsNullOrEmpty(status) ? null : status);
        // GitHub: "This endpoint will return up to 1,000 results for each search when using the following parameters:
        // actor, branch, check_suite_id, created, event, head_sha, status." Newest first, so the oldest are out of reach.
        if (!string.IsNullOrEmpty(status) && runs.Count > MaxFilteredRuns)
        {
            runs = runs.Take(MaxFilteredRuns).ToList();
        }

        var (page, link) = Paginate(call, runs);
        var array = new JsonArray();
        foreach (var run in page)
        {
            array.Add(GitHubJson.Run(run, call.ApiBase));
        }

        return ApiResult.Ok(new JsonObject { ["total_count"] = runs.Count, ["workflow_runs"] = array }, link);
    }

    private ApiResult GetRun(ApiCall call) =>
        RouteId(call, "run_id") is { } id && _world.Run(call.Repo!, id) is { } run
            ? ApiResult.Ok(GitHubJson.Run(run, call.ApiBase))
            : ApiResult.NotFound();

    private ApiResult ListJobsOfRun(ApiCall call)
    {
        if (RouteId(call, "run_id") is not { } runId || _world.Run(call.Repo!, runId) is null)
        {
            return ApiResult.NotFound();
        }

        var filter = call.Query["filter"].ToString();
        if (filter.Length > 0 && filter is not ("latest" or "all"))
        {
            return new ApiResult(422, GitHubJson.ValidationFailed("WorkflowJob", "filter", "invalid", $"filter must be latest or all, not {filter}"));
        }
        // Every job here has one attempt, so latest and all agree.
        var jobs = _world.JobsOfRun(runId);
        var (page, link) = Paginate(call, jobs);
        var array = new JsonArray();
        foreach (var job in page)
        {
            array.Add(GitHubJson.Job(job, call.ApiBase));
        }

        return ApiResult.Ok(new JsonObject { ["total_count"] = jobs.Count, ["jobs"] = array }, link);
    }

    private ApiResult GetJob(ApiCall call) =>
        RouteId(call, "job_id") is { } id && _world.Job(id) is { } job && job.Run.Repo == call.Repo
            ? ApiResult.Ok(GitHubJson.Job(job, call.ApiBase))
            : ApiResult.NotFound();

    private ApiResult ListRunners(ApiCall call)
    {
        var runners = _world.Runners(call.Repo!, includeRemoved: false);
        var name = call.Query["name"].ToString();
        if (name.Length > 0)
        {
            runners = runners.Where(r => r.Name == name).ToList();
        }

        var (page, link) = Paginate(call, runners);
        var array = new JsonArray();
        foreach (var runner in page)
        {
            array.Add(GitHubJson.Runner(runner));
        }

        return ApiResult.Ok(new JsonObject { ["total_count"] = runners.Count, ["runners"] = array }, link);
    }

    private ApiResult GetRunner(ApiCall call) =>
        RouteId(call, "runner_id") is { } id && _world.Runner(call.Repo!, id) is { } runner
            ? ApiResult.Ok(GitHubJson.Runner(runner))
            : ApiResult.NotFound();

    private ApiResult DeleteRunner(ApiCall call)
    {
        if (RouteId(call, "runner_id") is not { } id)
        {
            return ApiResult.NotFound();
        }

        return _world.DeleteRunner(call.Repo!, id) switch
        {
            GitHubWorld.DeleteOutcome.Deleted => new ApiResult(204, null),
            GitHubWorld.DeleteOutcome.Busy => new ApiResult(422, GitHubJson.Error(
                "Bad request - Runner \"" + _world.Runner(call.Repo!, id)?.Name + "\" is still running a job\"", 422)),
            _ => ApiResult.NotFound(),
        };
    }

    private async Task<ApiResult> GenerateJitConfigAsync(ApiCall call)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(call.Http.Request.Body, cancellationToken: call.Http.RequestAborted).ConfigureAwait(false) as JsonObject;
        }
        catch (JsonException)
        {
            return new ApiResult(400, GitHubJson.Error("Problems parsing JSON", 400));
        }
        if (body is null)
        {
            return new ApiResult(400, GitHubJson.Error("Problems parsing JSON", 400));
        }

        var name = body["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s.Trim() : "";
        if (name.Length == 0)
        {
            return new ApiResult(422, GitHubJson.ValidationFailedSimple("name is required"));
        }

        if (body["runner_group_id"] is not JsonValue group || !group.TryGetValue<long>(out _))
        {
            return new ApiResult(422, GitHubJson.ValidationFailedSimple("runner_group_id is required"));
        }

        var labels = (body["labels"] as JsonArray)?
            .Select(l => l is JsonValue v && v.TryGetValue<string>(out var label) ? label.Trim() : "")
            .ToArray() ?? [];
        if (labels.Length == 0 || labels.Length > 100 || labels.Any(l => l.Length == 0))
        {
            return new ApiResult(422, GitHubJson.ValidationFailedSimple("labels must hold 1 to 100 non-empty labels"));
        }

        var outcome = _world.GenerateJitConfig(call.Repo!, name, labels.Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), Url, out var runner, out var jit);
        if (outcome == GitHubWorld.JitOutcome.DuplicateName)
        {
            return new ApiResult(409, GitHubJson.Error($"Already exists - A runner with the name {name} already exists.", 409));
        }

        return new ApiResult(201, new JsonObject
        {
            ["runner"] = GitHubJson.Runner(runner!),
            ["encoded_jit_config"] = jit,
        });
    }

    private static long? RouteId(ApiCall call, string name) =>
        long.TryParse(call.Http.Request.RouteValues[name]?.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>GitHub's paging: per_page (default 30, at most 100), page (from 1), and a Link header
    /// of absolute URLs on the request's own host. A <see cref="ReplyCorruption.HugePage"/> fault ignores all that.</summary>
    private static (IReadOnlyList<T> Page, string? Link) Paginate<T>(ApiCall call, IReadOnlyList<T> all)
    {
        if (call.Corrupt == ReplyCorruption.HugePage)
        {
            return (all.Count == 0 ? all : Enumerable.Range(0, ReplyCorruptionSizes.HugePageItems).Select(i => all[i % all.Count]).ToList(), null);
        }

        var perPage = int.TryParse(call.Query["per_page"], NumberStyles.None, CultureInfo.InvariantCulture, out var pp) ? Math.Clamp(pp, 1, 100) : 30;
        var page = int.TryParse(call.Query["page"], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? Math.Max(p, 1) : 1;
        var lastPage = Math.Max(1, (all.Count + perPage - 1) / perPage);
        var slice = all.Skip((page - 1) * perPage).Take(perPage).ToList();

        var links = new List<string>();
        if (page < lastPage)
        {
            links.Add($"<{PageUrl(call, page + 1)}>; rel=\"next\"");
            links.Add($"<{PageUrl(call, lastPage)}>; rel=\"last\"");
        }
        if (page > 1)
        {
            links.Add($"<{PageUrl(call, 1)}>; rel=\"first\"");
            links.Add($"<{PageUrl(call, Math.Min(page - 1, lastPage))}>; rel=\"prev\"");
        }
        return (slice, links.Count == 0 ? null : string.Join(", ", links));
    }

    private static string PageUrl(ApiCall call, int page)
    {
        var request = call.Http.Request;
        var query = new StringBuilder();
        foreach (var (key, values) in request.Query.Where(q => q.Key != "page"))
        {
            foreach (var value in values)
            {
                query.Append(query.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
            }
        }
        query.Append(query.Length == 0 ? '?' : '&').Append("page=").Append(page.ToString(CultureInfo.InvariantCulture));
        return $"{call.ApiBase}{request.PathBase}{request.Path}{query}";
    }
}
