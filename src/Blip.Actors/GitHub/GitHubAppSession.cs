using System.Net;
using Blip.Actors.Config;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Octokit;

namespace Blip.Actors.GitHub;

/// <summary>
/// One GitHub App credential at work (one Secret <c>github-app</c> as it is now): its JWT (renewed a minute before it
/// expires), each repo's installation (<c>GET /repos/{owner}/{repo}/installation</c>, unless the Secret names one) and
/// each installation's token (<c>POST /app/installations/{id}/access_tokens</c>), refreshed before it expires (see
/// <see cref="InstallationToken.NeedsRefresh"/>) or at once when GitHub refuses it. A rotated Secret gets a new session,
/// so everything here is discarded with it. Tokens and JWTs live in memory only.
/// </summary>
public sealed class GitHubAppSession
{
    private readonly GitHubAppCredentials _app;
    private readonly IConnection _appConnection;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, long> _installationOfRepo = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<long, InstallationToken> _tokens = [];
    private string? _jwt;
    private DateTimeOffset _jwtRenewAt;

    /// <param name="connect">Makes a connection to GitHub's API with the given credentials (same URL and TLS as every call).</param>
    public GitHubAppSession(GitHubAppCredentials app, Func<ICredentialStore, IConnection> connect, TimeProvider clock)
    {
        _app = app;
        _clock = clock;
        _appConnection = connect(new CurrentCredentials(() => new Credentials(_jwt ?? "", AuthenticationType.Bearer)));
    }

    public GitHubAppCredentials App => _app;

    /// <summary>The installation that covers <paramref name="repo"/> (from the Secret, or looked up once per repo).</summary>
    public async Task<long> InstallationForAsync(RepoName repo, CancellationToken ct)
    {
        if (_app.InstallationId is { } fixedId)
        {
            return fixedId;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_installationOfRepo.TryGetValue(repo.ToString(), out var known))
            {
                return known;
            }

            RenewJwtIfDue();
            var uri = new Uri($"repos/{repo.Owner}/{repo.Name}/installation", UriKind.Relative);
            var reply = await AppCall($"find the installation of {_app} on {repo}", repo,
                () => _appConnection.Get<InstallationReply>(uri, null)).ConfigureAwait(false);
            if (reply.Body is not { Id: > 0 } installation)
            {
                throw new GitHubCallException($"find the installation of {_app} on {repo}: GitHub's reply has no installation id", reply.HttpResponse.StatusCode);
            }

            _installationOfRepo[repo.ToString()] = installation.Id;
            return installation.Id;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A token of the installation, valid for a while yet; exchanged for a new one when due.</summary>
    public async Task<string> TokenAsync(long installationId, CancellationToken ct)
    {
        if (Current(installationId) is { } current)
        {
            return current;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (Current(installationId) is { } fresh)
            {
                return fresh;
            }

            RenewJwtIfDue();
            var uri = new Uri($"app/installations/{installationId}/access_tokens", UriKind.Relative);
            var obtainedAt = _clock.GetUtcNow();
            var reply = await AppCall($"create a token for installation {installationId} of {_app}", null,
                () => _appConnection.Post<AccessTokenReply>(uri, new Dictionary<string, object>(), "application/vnd.github+json", "application/json")).ConfigureAwait(false);
            if (reply.Body is not { Token.Length: > 0, ExpiresAt: { } expiresAt } token)
            {
                throw new GitHubCallException($"create a token for installation {installationId} of {_app}: GitHub's reply has no token or expires_at", reply.HttpResponse.StatusCode);
            }

            lock (_tokens)
            {
                _tokens[installationId] = new InstallationToken(token.Token!, obtainedAt, expiresAt);
            }

            return token.Token!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The token GitHub just refused (401) is due at once: the next call exchanges a new one.</summary>
    public void Refused(long installationId, string token)
    {
        lock (_tokens)
        {
            if (_tokens.TryGetValue(installationId, out var held) && held.Value == token)
            {
                _tokens[installationId] = held with { ExpiresAt = held.ObtainedAt };
            }
        }
    }

    /// <summary>The token of an installation as held now (for the installation's client), or empty.</summary>
    public string Held(long installationId)
    {
        lock (_tokens)
        {
            return _tokens.TryGetValue(installationId, out var held) ? held.Value : "";
        }
    }

    private string? Current(long installationId)
    {
        lock (_tokens)
        {
            return _tokens.TryGetValue(installationId, out var held) && !held.NeedsRefresh(_clock.GetUtcNow()) ? held.Value : null;
        }
    }

    private void RenewJwtIfDue()
    {
        var now = _clock.GetUtcNow();
        if (_jwt is null || now >= _jwtRenewAt)
        {
            using var key = _app.CreateSigningKey();
            _jwt = AppJwt.Create(_app.AppId, key, now);
            _jwtRenewAt = AppJwt.RenewAt(now);
        }
    }

    private async Task<IApiResponse<T>> AppCall<T>(string operation, RepoName? repo, Func<Task<IApiResponse<T>>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            var why = e.StatusCode switch
            {
                HttpStatusCode.Unauthorized => $"GitHub refused the App's JWT ({e.ApiError?.Message ?? "Bad credentials"}): check keys {GitHubAppCredentials.AppIdKey} and {GitHubAppCredentials.PrivateKeyKey} of Secret {GitHubAppCredentials.SecretName} (the key must be one GitHub lists for this App)",
                HttpStatusCode.NotFound when repo is not null => $"the App is not installed on {repo}: install it there (permissions: Administration read & write, Actions read)",
                HttpStatusCode.NotFound => $"GitHub knows no such installation of this App: check key {GitHubAppCredentials.InstallationIdKey} of Secret {GitHubAppCredentials.SecretName}",
                HttpStatusCode.Forbidden => "GitHub refused (403): the App lacks a permission or is suspended",
                _ => $"GitHub answered {(int)e.StatusCode}",
            };
            throw new GitHubCallException($"{operation}: {why}", e.StatusCode, null, e);
        }
    }

    /// <summary>Octokit asks its credential store on every request: this one answers what is current.</summary>
    public sealed class CurrentCredentials(Func<Credentials> current) : ICredentialStore
    {
        public Task<Credentials> GetCredentials() => Task.FromResult(current());
    }

    public sealed class InstallationReply
    {
        public long Id { get; set; }
    }

    public sealed class AccessTokenReply
    {
        public string? Token { get; set; }
        public DateTimeOffset? ExpiresAt { get; set; }
    }
}

/// <summary>An installation token and when it was obtained and expires (GitHub: an hour).</summary>
public sealed record InstallationToken(string Value, DateTimeOffset ObtainedAt, DateTimeOffset ExpiresAt)
{
    public static readonly TimeSpan MaxMargin = TimeSpan.FromMinutes(5);

    /// <summary>Due for a new one: within 5 minutes of expiry, or within a quarter of its life for shorter-lived tokens,
    /// so no call goes out with a token about to lapse in flight.</summary>
    public bool NeedsRefresh(DateTimeOffset now)
    {
        var life = ExpiresAt - ObtainedAt;
        var margin = life <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(MaxMargin.Ticks, life.Ticks / 4));
        return now >= ExpiresAt - margin;
    }

    public override string ToString() => $"installation token expiring {ExpiresAt:O}";
}
