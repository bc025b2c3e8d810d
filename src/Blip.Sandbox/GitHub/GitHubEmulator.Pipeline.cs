using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.GitHub;

// The REST pipeline every GitHub endpoint goes through: faults, auth, secondary limit, primary budget, repo, permission,
// the handler, reply corruption, ETag/304, stats.
public sealed partial class GitHubEmulator
{
    private enum Need { Nothing, ActionsRead, AdministrationRead, AdministrationWrite }

    /// <summary>One authenticated REST call that passed the gates, as a handler sees it.</summary>
    private sealed record ApiCall(HttpContext Http, PatGrant Pat, EmulatedRepo? Repo, string ApiBase, ReplyCorruption Corrupt)
    {
        public IQueryCollection Query => Http.Request.Query;
    }

    private sealed record ApiResult(int Status, JsonNode? Body, string? Link = null)
    {
        public static ApiResult Ok(JsonNode body, string? link = null) => new(200, body, link);
        public static ApiResult NotFound() => new(404, GitHubJson.Error("Not Found", 404));
    }

    private void MapRest(WebApplication app, string method, string template, Need need, Func<ApiCall, Task<ApiResult>> handler)
    {
        var endpoint = $"{method} {template}";
        app.MapMethods(template, [method], (HttpContext http) => HandleRestAsync(http, endpoint, need, handler));
    }

    private void MapRest(WebApplication app, string method, string template, Need need, Func<ApiCall, ApiResult> handler) =>
        MapRest(app, method, template, need, call => Task.FromResult(handler(call)));

    private async Task HandleRestAsync(HttpContext http, string endpoint, Need need, Func<ApiCall, Task<ApiResult>> handler)
    {
        var repoName = http.Request.RouteValues.TryGetValue("o", out var o) && http.Request.RouteValues.TryGetValue("r", out var r)
            ? $"{o}/{r}"
            : null;
        var abort = http.RequestAborted;
        try
        {
            var (latencyMs, fault) = _faults.Decide(endpoint);
            if (latencyMs > 0)
            {
                await Task.Delay(latencyMs, abort).ConfigureAwait(false);
            }

            if (fault is { RegisterThenFail: false, Corrupt: ReplyCorruption.None })
            {
                await FailAsync(http, endpoint, repoName, fault, counted: false, abort).ConfigureAwait(false);
                return;
            }

            var outcome = await GateAndHandleAsync(http, endpoint, need, handler, fault?.Corrupt ?? ReplyCorruption.None).ConfigureAwait(false);
            if (fault is { Corrupt: ReplyCorruption.None })
            {
                // The call was carried out (the half-registration): the caller still sees only an error.
                await FailAsync(http, endpoint, repoName, fault, outcome.Counted, abort).ConfigureAwait(false);
                return;
            }
            _stats.Record(endpoint, repoName, outcome.Status, outcome.Counted);
            await WriteAsync(http, outcome.Status, outcome.Body, outcome.Headers).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            _stats.Record(endpoint, repoName, 499, counted: false);
        }
    }

    private async Task FailAsync(HttpContext http, string endpoint, string? repoName, EndpointFault fault, bool counted, CancellationToken abort)
    {
        if (fault.TimeoutSeconds > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(fault.TimeoutSeconds), abort).ConfigureAwait(false);
        }

        var status = fault.Status != 0 ? fault.Status : 504;
        _stats.Record(endpoint, repoName, status, counted);
        var message = fault.Message ?? status switch
        {
            422 => "Validation Failed",
            502 => "Server Error",
            503 => "Service Unavailable",
            504 => "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
            _ => "Server Error",
        };
        await WriteAsync(http, status, Json(GitHubJson.Error(message, status)), []).ConfigureAwait(false);
    }

    private sealed record GateOutcome(int Status, byte[]? Body, List<KeyValuePair<string, string>> Headers, bool Counted);

    /// <summary>Auth, secondary limit, primary budget, repo visibility, permission; then the handler, the corruption of a
    /// success reply (<paramref name="corrupt"/>) and the ETag (of the body as sent).</summary>
    private async Task<GateOutcome> GateAndHandleAsync(HttpContext http, string endpoint, Need need, Func<ApiCall, Task<ApiResult>> handler, ReplyCorruption corrupt)
    {
        var headers = new List<KeyValuePair<string, string>>();
        var pat = Authenticate(http);
        if (pat is null && need == Need.Nothing && string.IsNullOrEmpty(http.Request.Headers.Authorization))
        {
            pat = _world.Anonymous; // public data: no credentials needed (bad ones are still refused)
        }

        if (pat is null)
        {
            return new(401, Json(GitHubJson.Error("Bad credentials", 401)), headers, false);
        }

        if (_faults.SecondaryLimitFor(pat.Token) is var (secondary, retryAfter))
        {
            AddRateHeaders(headers, _world.PeekRateLimit(pat));
            headers.Add(new("retry-after", retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return new(secondary.Status, Json(GitHubJson.Error(
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", secondary.Status)), headers, false);
        }

        // GET /rate_limit is free on GitHub.
        var free = endpoint == "GET /rate_limit";
        RateLimitSnapshot rate;
        if (free)
        {
            rate = _world.PeekRateLimit(pat);
        }
        else if (!_world.TryCharge(pat, out rate))
        {
            AddRateHeaders(headers, rate);
            return new(403, Json(GitHubJson.Error("API rate limit exceeded for user ID 1000001.", 403)), headers, false);
        }

        ApiResult result;
        EmulatedRepo? repo = null;
        if (http.Request.RouteValues.TryGetValue("o", out var o) && http.Request.RouteValues.TryGetValue("r", out var r))
        {
            repo = _world.FindRepo($"{o}", $"{r}");
            if (repo is null || !pat.CanSee(repo))
            {
                repo = null;
            }
        }
        var repoRequired = http.Request.RouteValues.ContainsKey("o");
        if (repoRequired && repo is null)
        {
            result = ApiResult.NotFound();
        }
        else if (!Allowed(pat, need))
        {
            result = new ApiResult(403, GitHubJson.Error(pat.Integration ? "Resource not accessible by integration" : "Resource not accessible by personal access token", 403));
        }
        else
        {
            result = await handler(new ApiCall(http, pat, repo, $"{http.Request.Scheme}://{http.Request.Host}", corrupt)).ConfigureAwait(false);
        }

        var body = result.Body is null ? null
            : corrupt != ReplyCorruption.None && result.Status is 200 or 201 ? ReplyCorrupter.Apply(corrupt, result.Body)
            : Json(result.Body);
        var status = result.Status;
        if (HttpMethods.IsGet(http.Request.Method) && status == 200 && body is not null)
        {
            var etag = $"W/\"{Convert.ToHexStringLower(SHA256.HashData(body))}\"";
            headers.Add(new("ETag", etag));
            if (IfNoneMatch(http, etag))
            {
                if (!free)
                {
                    rate = _world.Refund(pat);
                }

                AddRateHeaders(headers, rate);
                return new(304, null, headers, false);
            }
        }
        if (result.Link is not null)
        {
            headers.Add(new("Link", result.Link));
        }

        AddRateHeaders(headers, rate);
        return new(status, body, headers, !free);
    }

    private PatGrant? Authenticate(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return null;
        }

        var scheme = header[..space];
        if (!scheme.Equals("token", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("bearer", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return _world.FindToken(header[(space + 1)..].Trim());
    }

    private static bool Allowed(PatGrant pat, Need need) => need switch
    {
        Need.Nothing => true,
        Need.ActionsRead => pat.Actions == "read",
        Need.AdministrationRead => pat.Administration is "read" or "write",
        Need.AdministrationWrite => pat.Administration == "write",
        _ => false,
    };

    private static bool IfNoneMatch(HttpContext http, string etag)
    {
        foreach (var value in http.Request.Headers.IfNoneMatch)
        {
            foreach (var candidate in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // Weak comparison, as GitHub: W/"x" matches "x".
                if (candidate == "*" || StripWeak(candidate) == StripWeak(etag))
                {
                    return true;
                }
            }
        }
        return false;

        static string StripWeak(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;
    }

    private static void AddRateHeaders(List<KeyValuePair<string, string>> headers, RateLimitSnapshot rate)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        headers.Add(new("x-ratelimit-limit", rate.Limit.ToString(inv)));
        headers.Add(new("x-ratelimit-remaining", rate.Remaining.ToString(inv)));
        headers.Add(new("x-ratelimit-reset", rate.ResetEpochSeconds.ToString(inv)));
        headers.Add(new("x-ratelimit-used", rate.Used.ToString(inv)));
        headers.Add(new("x-ratelimit-resource", "core"));
    }

    private static byte[] Json(JsonNode node) => System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());

    private static async Task WriteAsync(HttpContext http, int status, byte[]? body, List<KeyValuePair<string, string>> headers)
    {
        http.Response.StatusCode = status;
        foreach (var (name, value) in headers)
        {
            http.Response.Headers.Append(name, value);
        }

        http.Response.Headers["X-GitHub-Media-Type"] = "github.v3; format=json";
        http.Response.Headers["X-GitHub-Api-Version-Selected"] = "2022-11-28";
        if (body is null || status is 204 or 304)
        {
            return;
        }

        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }
}
