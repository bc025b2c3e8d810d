using System.Text.Json.Nodes;

namespace Blip.Sandbox.GitHub;

// The GitHub App endpoints, authenticated by the App's JWT (not by a token): the installation that covers a repo, and
// installation tokens. Faults and stats apply as to every REST endpoint, under the same endpoint keys.
public sealed partial class GitHubEmulator
{
    private void MapAppApi(WebApplication app)
    {
        MapApp(app, "GET", "/repos/{o}/{r}/installation", GetRepoInstallation);
        MapApp(app, "POST", "/app/installations/{installation_id}/access_tokens", CreateAccessToken);
    }

    /// <summary>Creates a GitHub App installed on the given repos, with one private key.</summary>
    public CreatedApp CreateApp(CreateAppRequest request) => _world.CreateApp(request);

    /// <summary>Generates another private key for the App (the first half of a rotation).</summary>
    public AppKey? AddAppKey(long appId) => _world.AddAppKey(appId);

    /// <summary>Deletes a key of the App: JWTs it signs are refused from now on (the second half of a rotation).</summary>
    public bool RemoveAppKey(long appId, string keyId) => _world.RemoveAppKey(appId, keyId);

    /// <summary>Ends every token of the installation now (as an hour passing, or a revocation).</summary>
    public int ExpireInstallationTokens(long installationId) => _world.ExpireInstallationTokens(installationId);

    /// <summary>How long installation tokens issued from now on are valid (GitHub: an hour).</summary>
    public TimeSpan InstallationTokenLifetime
    {
        get => _world.InstallationTokenLifetime;
        set => _world.InstallationTokenLifetime = value;
    }

    /// <summary>Installation tokens issued and JWTs accepted per key.</summary>
    public AppActivity AppActivity(long appId) => _world.Activity(appId);

    private void MapApp(WebApplication app, string method, string template, Func<HttpContext, EmulatedApp, (int Status, JsonNode Body)> handler)
    {
        var endpoint = $"{method} {template}";
        app.MapMethods(template, [method], async (HttpContext http) =>
        {
            var repoName = http.Request.RouteValues.TryGetValue("o", out var o) && http.Request.RouteValues.TryGetValue("r", out var r) ? $"{o}/{r}" : null;
            var (latencyMs, fault) = _faults.Decide(endpoint);
            if (latencyMs > 0)
            {
                await Task.Delay(latencyMs, http.RequestAborted).ConfigureAwait(false);
            }

            if (fault is not null)
            {
                await FailAsync(http, endpoint, repoName, fault, counted: false, http.RequestAborted).ConfigureAwait(false);
                return;
            }

            var header = http.Request.Headers.Authorization.ToString();
            var (verified, error) = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                ? _world.VerifyJwt(header["Bearer ".Length..].Trim())
                : (null, "A JSON web token could not be decoded");
            var (status, body) = verified is null ? (401, GitHubJson.Error(error!, 401)) : handler(http, verified);
            _stats.Record(endpoint, repoName, status, counted: verified is not null);
            await WriteAsync(http, status, Json(body), []).ConfigureAwait(false);
        });
    }

    private (int, JsonNode) GetRepoInstallation(HttpContext http, EmulatedApp app)
    {
        var repo = _world.FindRepo($"{http.Request.RouteValues["o"]}", $"{http.Request.RouteValues["r"]}");
        return repo is not null && _world.InstallationOn(app, repo) is { } installation
            ? (200, InstallationJson(installation, $"{http.Request.Scheme}://{http.Request.Host}"))
            : (404, GitHubJson.Error("Not Found", 404));
    }

    private (int, JsonNode) CreateAccessToken(HttpContext http, EmulatedApp app)
    {
        if (!long.TryParse($"{http.Request.RouteValues["installation_id"]}", out var installationId)
            || _world.CreateInstallationToken(app, installationId) is not { } issued)
        {
            return (404, GitHubJson.Error("Not Found", 404));
        }

        var (token, expiresAt, installation) = issued;
        return (201, new JsonObject
        {
            ["token"] = token,
            ["expires_at"] = GitHubJson.Time(expiresAt),
            ["permissions"] = Permissions(installation.Grant),
            ["repository_selection"] = installation.RepositorySelection,
        });
    }

    private static JsonObject InstallationJson(EmulatedInstallation installation, string api)
    {
        var owner = installation.App.Slug.Replace("blip-sandbox-", "app-owner-", StringComparison.Ordinal);
        return new JsonObject
        {
            ["id"] = installation.Id,
            ["account"] = GitHubJson.User(owner, "Organization", api),
            ["repository_selection"] = installation.RepositorySelection,
            ["access_tokens_url"] = $"{api}/app/installations/{installation.Id}/access_tokens",
            ["repositories_url"] = $"{api}/installation/repositories",
            ["html_url"] = $"https://github.com/organizations/{owner}/settings/installations/{installation.Id}",
            ["app_id"] = installation.App.Id,
            ["app_slug"] = installation.App.Slug,
            ["client_id"] = installation.App.ClientId,
            ["target_id"] = 1,
            ["target_type"] = "Organization",
            ["permissions"] = Permissions(installation.Grant),
            ["events"] = new JsonArray("workflow_job"),
            ["created_at"] = GitHubJson.Time(installation.CreatedAt),
            ["updated_at"] = GitHubJson.Time(installation.CreatedAt),
            ["single_file_name"] = null,
            ["has_multiple_single_files"] = false,
            ["single_file_paths"] = new JsonArray(),
            ["suspended_by"] = null,
            ["suspended_at"] = null,
        };
    }

    private static JsonObject Permissions(PatGrant grant)
    {
        var permissions = new JsonObject { ["metadata"] = "read" };
        if (grant.Actions != "none")
        {
            permissions["actions"] = grant.Actions;
        }

        if (grant.Administration != "none")
        {
            permissions["administration"] = grant.Administration;
        }

        return permissions;
    }
}
