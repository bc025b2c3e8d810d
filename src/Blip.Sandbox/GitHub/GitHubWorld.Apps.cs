using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Blip.Sandbox.GitHub;

/// <summary>
/// GitHub Apps as GitHub has them: an App has an id, a client id and one or more private keys (GitHub keeps only the public
/// halves; a key can be added and deleted, which is how it is rotated); an installation covers repos with permissions and
/// has its own rate budget; the App authenticates as itself with a JWT (RS256, <c>iss</c> = App ID or client ID,
/// <c>exp</c> at most 10 minutes ahead, checked here as GitHub does) and exchanges it for installation tokens
/// (<c>ghs_…</c>) that expire (an hour by default, <see cref="GitHubEmulatorOptions.InstallationTokenLifetime"/>).
/// </summary>
internal sealed partial class GitHubWorld
{
    /// <summary>GitHub: "The JWT's expiration time must be no more than 10 minutes into the future."</summary>
    public static readonly TimeSpan MaxJwtLifetime = TimeSpan.FromMinutes(10);

    // GitHub tolerates a little clock drift on iat (its docs advise backdating 60 s for the same reason).
    private static readonly TimeSpan JwtClockSkew = TimeSpan.FromSeconds(30);

    private readonly Dictionary<long, EmulatedApp> _apps = [];
    private readonly Dictionary<string, DateTimeOffset> _tokenExpiry = new(StringComparer.Ordinal);
    private readonly List<string> _issuedInstallationTokens = [];
    private readonly List<string> _acceptedJwts = [];
    private readonly List<string> _appPrivateKeys = [];
    private long _nextAppId = 900_001;
    private long _nextInstallationId = 55_000_001;

    public TimeSpan InstallationTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public CreatedApp CreateApp(CreateAppRequest request)
    {
        var actions = ParseLevel(request.Actions, "actions", "read", "none");
        var administration = ParseLevel(request.Administration, "administration", "write", "read", "none");
        lock (_gate)
        {
            var all = request.Repos.Contains("*");
            foreach (var repo in request.Repos.Where(r => r != "*"))
            {
                EnsureRepo(repo);
            }

            var id = _nextAppId++;
            var app = new EmulatedApp(id, "Iv23li" + RandomAlphanumeric(14), $"blip-sandbox-{id}");
            var installationId = _nextInstallationId++;
            var grant = new PatGrant(
                $"installation {installationId}",
                all,
                new HashSet<string>(request.Repos.Where(r => r != "*"), StringComparer.OrdinalIgnoreCase),
                actions,
                administration,
                request.RateLimitPerHour ?? _defaultRateLimit)
            { Integration = true };
            app.Installations.Add(new EmulatedInstallation(installationId, app, grant, all ? "all" : "selected", Now));
            _apps[id] = app;
            var (keyId, pem) = AddKey(app);
            return new CreatedApp(id, app.ClientId, installationId, keyId, pem);
        }
    }

    /// <summary>Generates another private key for the App (GitHub: "Generate a private key"); returns its id and PEM.</summary>
    public AppKey? AddAppKey(long appId)
    {
        lock (_gate)
        {
            if (!_apps.TryGetValue(appId, out var app))
            {
                return null;
            }

            var (keyId, pem) = AddKey(app);
            return new AppKey(keyId, pem);
        }
    }

    /// <summary>Deletes one of the App's keys: JWTs it signs are refused from now on.</summary>
    public bool RemoveAppKey(long appId, string keyId)
    {
        lock (_gate)
        {
            return _apps.TryGetValue(appId, out var app) && app.Keys.Remove(keyId);
        }
    }

    /// <summary>Ends every token of the installation now, as if an hour had passed (or the installation's tokens were revoked).</summary>
    public int ExpireInstallationTokens(long installationId)
    {
        lock (_gate)
        {
            var ended = 0;
            foreach (var (token, _) in _tokenExpiry.ToList())
            {
                if (_pats.GetValueOrDefault(token)?.Token == $"installation {installationId}")
                {
                    _tokenExpiry[token] = Now;
                    ended++;
                }
            }

            return ended;
        }
    }

    public AppActivity Activity(long appId)
    {
        lock (_gate)
        {
            return _apps.TryGetValue(appId, out var app)
                ? new AppActivity(app.TokensIssued, new Dictionary<string, int>(app.JwtsByKey), app.NewestTokenExpiresAt)
                : new AppActivity(0, new Dictionary<string, int>());
        }
    }

    private (string KeyId, string Pem) AddKey(EmulatedApp app)
    {
        using var rsa = RSA.Create(2048);
        var keyId = $"key-{++app.KeysMade}";
        app.Keys[keyId] = rsa.ExportSubjectPublicKeyInfo();
        var pem = rsa.ExportRSAPrivateKeyPem();
        _appPrivateKeys.Add(pem);
        return (keyId, pem);
    }

    /// <summary>Checks a JWT as GitHub does; the App it authenticates, or GitHub's 401 message.</summary>
    public (EmulatedApp? App, string? Error) VerifyJwt(string jwt)
    {
        const string undecodable = "A JSON web token could not be decoded";
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return (null, undecodable);
        }

        long iat, exp;
        string issuer;
        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            if (header.RootElement.GetProperty("alg").GetString() != "RS256")
            {
                return (null, undecodable);
            }

            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var claims = payload.RootElement;
            if (!claims.TryGetProperty("iat", out var iatClaim) || !iatClaim.TryGetInt64(out iat))
            {
                return (null, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
            }

            if (!claims.TryGetProperty("exp", out var expClaim) || !expClaim.TryGetInt64(out exp))
            {
                return (null, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
            }

            issuer = claims.TryGetProperty("iss", out var iss) ? iss.ToString() : "";
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, undecodable);
        }

        var now = Now;
        if (DateTimeOffset.FromUnixTimeSeconds(iat) > now + JwtClockSkew)
        {
            return (null, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
        }

        if (DateTimeOffset.FromUnixTimeSeconds(exp) <= now)
        {
            return (null, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
        }

        if (DateTimeOffset.FromUnixTimeSeconds(exp) > now + MaxJwtLifetime + JwtClockSkew || exp - iat > (long)(MaxJwtLifetime + JwtClockSkew + JwtClockSkew).TotalSeconds)
        {
            return (null, "'Expiration time' claim ('exp') is too far in the future");
        }

        lock (_gate)
        {
            var app = _apps.Values.FirstOrDefault(a => a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == issuer || a.ClientId == issuer);
            if (app is null)
            {
                return (null, "Integration not found");
            }

            var signed = System.Text.Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            byte[] signature;
            try
            {
                signature = Base64Url.DecodeFromChars(parts[2]);
            }
            catch (FormatException)
            {
                return (null, undecodable);
            }

            foreach (var (keyId, publicKey) in app.Keys)
            {
                using var rsa = RSA.Create();
                rsa.ImportSubjectPublicKeyInfo(publicKey, out _);
                if (rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                {
                    app.JwtsByKey[keyId] = app.JwtsByKey.GetValueOrDefault(keyId) + 1;
                    if (!_acceptedJwts.Contains(jwt))
                    {
                        _acceptedJwts.Add(jwt);
                    }

                    return (app, null);
                }
            }

            return (null, undecodable);
        }
    }

    /// <summary>The installation of <paramref name="app"/> that covers the repo, or null (GitHub: 404).</summary>
    public EmulatedInstallation? InstallationOn(EmulatedApp app, EmulatedRepo repo)
    {
        lock (_gate)
        {
            return app.Installations.FirstOrDefault(i => i.Grant.CanSee(repo));
        }
    }

    /// <summary>A new installation token, valid for <see cref="InstallationTokenLifetime"/>; null for an unknown installation.</summary>
    public (string Token, DateTimeOffset ExpiresAt, EmulatedInstallation Installation)? CreateInstallationToken(EmulatedApp app, long installationId)
    {
        lock (_gate)
        {
            var installation = app.Installations.FirstOrDefault(i => i.Id == installationId);
            if (installation is null)
            {
                return null;
            }

            var token = "ghs_" + RandomAlphanumeric(36);
            var expiresAt = Now + InstallationTokenLifetime;
            _pats[token] = installation.Grant;
            _tokenExpiry[token] = expiresAt;
            _issuedInstallationTokens.Add(token);
            app.TokensIssued++;
            app.NewestTokenExpiresAt = expiresAt;
            return (token, expiresAt, installation);
        }
    }

    /// <summary>False for an installation token past its expiry (GitHub: 401 Bad credentials).</summary>
    private bool Unexpired(string token) =>
        !_tokenExpiry.TryGetValue(token, out var expiresAt) || Now < expiresAt;
}

internal sealed class EmulatedApp(long id, string clientId, string slug)
{
    public long Id { get; } = id;
    public string ClientId { get; } = clientId;
    public string Slug { get; } = slug;

    /// <summary>Public keys (SubjectPublicKeyInfo) by key id.</summary>
    public Dictionary<string, byte[]> Keys { get; } = new(StringComparer.Ordinal);
    public int KeysMade { get; set; }
    public List<EmulatedInstallation> Installations { get; } = [];
    public int TokensIssued { get; set; }
    public DateTimeOffset? NewestTokenExpiresAt { get; set; }
    public Dictionary<string, int> JwtsByKey { get; } = new(StringComparer.Ordinal);
}

/// <summary>An App's installation: its repos, permissions and rate budget are those of <see cref="Grant"/>, shared by
/// every token issued for it.</summary>
internal sealed record EmulatedInstallation(long Id, EmulatedApp App, PatGrant Grant, string RepositorySelection, DateTimeOffset CreatedAt);
