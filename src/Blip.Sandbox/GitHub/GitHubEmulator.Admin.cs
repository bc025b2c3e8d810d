using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Blip.Sandbox.GitHub;

// The admin API under /_sandbox/ (admin token as Bearer, camelCase JSON). Not GitHub: not in the stats.
public sealed partial class GitHubEmulator
{
    private static readonly JsonSerializerOptions AdminJson = new(JsonSerializerDefaults.Web);

    private void MapAdminApi(WebApplication app)
    {
        var admin = app.MapGroup("/_sandbox").AddEndpointFilter(async (context, next) =>
            IsAdmin(context.HttpContext)
                ? await next(context).ConfigureAwait(false)
                : Results.Json(new { message = "admin token required" }, AdminJson, statusCode: 401));

        admin.MapPost("/jobs", async (HttpContext http) =>
        {
            var request = await ReadAsync<QueueJobRequest>(http).ConfigureAwait(false);
            if (request is null)
            {
                return BadRequest("body must be {repo, labels[], durationSeconds}");
            }

            try
            {
                return Results.Json(_world.QueueJob(request), AdminJson, statusCode: 201);
            }
            catch (ArgumentException e)
            {
                return BadRequest(e.Message);
            }
        });
        admin.MapGet("/jobs", (string? repo) => Results.Json(_world.Jobs(repo).Select(j => j.ToSandbox()), AdminJson));
        admin.MapGet("/jobs/{jobId:long}", (long jobId) =>
            _world.Job(jobId) is { } job ? Results.Json(job.ToSandbox(), AdminJson) : NotFound($"job {jobId}"));
        admin.MapPost("/jobs/{jobId:long}/cancel", (long jobId) =>
            _world.CancelJob(jobId) ? Results.Json(_world.Job(jobId)!.ToSandbox(), AdminJson) : NotFound($"job {jobId}"));
        admin.MapPost("/jobs/{jobId:long}/approve", (long jobId) =>
            _world.ApproveJob(jobId) ? Results.Json(_world.Job(jobId)!.ToSandbox(), AdminJson) : NotFound($"job {jobId}"));
        admin.MapGet("/runners", (bool? all) =>
            Results.Json(_world.Runners(null, includeRemoved: all == true).Select(r => r.ToSandbox()), AdminJson));
        admin.MapPost("/tokens", async (HttpContext http) =>
        {
            var request = await ReadAsync<CreateTokenRequest>(http).ConfigureAwait(false);
            if (request?.Repos is null)
            {
                return BadRequest("body must be {repos[], actions, administration}");
            }

            try
            {
                return Results.Json(new CreatedToken(_world.CreateToken(request)), AdminJson, statusCode: 201);
            }
            catch (ArgumentException e)
            {
                return BadRequest(e.Message);
            }
        });
        admin.MapPut("/tokens/{token}/budget", async (string token, HttpContext http) =>
        {
            var request = await ReadAsync<SetBudgetRequest>(http).ConfigureAwait(false);
            if (request is null)
            {
                return BadRequest("body must be {remaining, resetSeconds}");
            }

            return _world.SetBudget(token, request.Remaining, request.ResetSeconds) ? Results.NoContent() : NotFound("token");
        });
        admin.MapGet("/deliveries", () => Results.Json(_webhooks?.Deliveries() ?? [], AdminJson));
        admin.MapPost("/deliveries/{guid}/redeliver", (string guid) =>
            _webhooks?.Redeliver(guid) == true ? Results.Accepted() : NotFound($"delivery {guid}"));
        admin.MapPost("/deliveries", async (HttpContext http) =>
        {
            var request = await ReadAsync<SendEventRequest>(http).ConfigureAwait(false);
            if (request is null || string.IsNullOrWhiteSpace(request.Event))
            {
                return BadRequest("body must be {event, repo?}");
            }

            if (_webhooks is null)
            {
                return BadRequest("no webhook URL is configured");
            }

            var repo = request.Repo is { } name ? _world.FindRepo(name.Split('/')[0], name.Split('/').ElementAtOrDefault(1) ?? "") : null;
            var guid = _webhooks.Enqueue(GitHubJson.OtherEvent(request.Event, repo, ApiBase).ToJsonString(), request.Event);
            return Results.Json(new SandboxDelivery(guid, request.Event, false, null, 0), AdminJson, statusCode: 202);
        });
        admin.MapPut("/settings", async (HttpContext http) =>
        {
            var settings = await ReadAsync<SandboxSettings>(http).ConfigureAwait(false);
            if (settings is null || settings.LostRunnerSeconds is < 1
                || (settings.MinimumRunnerVersion is { Length: > 0 } min && !Version.TryParse(min, out _)))
            {
                return BadRequest("body must be {lostRunnerSeconds >= 1, minimumRunnerVersion: \"2.330.0\" or \"\"}");
            }

            if (settings.MinimumRunnerVersion is { } minimum)
            {
                _world.MinimumRunnerVersion = minimum.Length == 0 ? null : Version.Parse(minimum);
            }

            if (settings.LostRunnerSeconds is { } lost)
            {
                _world.LostRunnerTimeout = TimeSpan.FromSeconds(lost);
            }

            return Results.NoContent();
        });
        admin.MapGet("/stats", () => Results.Json(_stats.Snapshot(), AdminJson));
        admin.MapGet("/secrets", () => Results.Json(_world.Secrets(), AdminJson));
        admin.MapPut("/faults", async (HttpContext http) =>
        {
            var faults = await ReadAsync<SandboxFaults>(http).ConfigureAwait(false);
            if (faults is null)
            {
                return BadRequest("body must be {endpoints[], secondaryLimit}");
            }

            try
            {
                SetFaults(faults);
                return Results.NoContent();
            }
            catch (ArgumentException e)
            {
                return BadRequest(e.Message);
            }
        });
    }

    private bool IsAdmin(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        return header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(
                Encoding.UTF8.GetBytes(header[prefix.Length..].Trim()), Encoding.UTF8.GetBytes(AdminToken));
    }

    private static async Task<T?> ReadAsync<T>(HttpContext http) where T : class
    {
        try
        {
            return await http.Request.ReadFromJsonAsync<T>(AdminJson, http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult BadRequest(string message) => Results.Json(new { message }, AdminJson, statusCode: 400);

    private static IResult NotFound(string what) =>
        Results.Json(new { message = string.Create(CultureInfo.InvariantCulture, $"{what} not found") }, AdminJson, statusCode: 404);
}
