using System.Globalization;
using System.Net;
using System.Runtime.Serialization;
using Blip.Actors.Config;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Octokit;
using Octokit.Internal;

namespace Blip.Actors.GitHub;

/// <summary>
/// <see cref="IGitHubActions"/> on Octokit, always with the credential current at the time of the call: the GitHub App's
/// installation token for the repo when Secret github-app holds a usable App (see <see cref="GitHubAppSession"/>), else
/// the PAT. Per PAT and per installation: one client, one ETag cache (GETs are conditional; a 304 is free) and one
/// <see cref="RateLimitGovernor"/>. TLS to GitHub is verified against the system roots and the <c>github-ca</c> bundle.
/// A call the governor holds back fails at once with a rate-limited <see cref="GitHubCallException"/>
/// carrying how long to wait, without touching the network.
/// Replies are read defensively: a body over <see cref="MaxReplyBytes"/> or one Octokit cannot parse fails the call
/// with a <see cref="GitHubCallException"/> naming the operation; a listing keeps at most <see cref="MaxListed"/>
/// items; a listed item lacking what the controller needs is skipped with one warning (not one per poll).
/// </summary>
public sealed partial class OctokitGitHubActions(
    ControllerSecrets secrets, GitHubOptions options, TimeProvider? clock = null, ILogger<OctokitGitHubActions>? logger = null,
    Inspection.BlipMetrics? metrics = null) : IGitHubActions
{
    private const int PageSize = 100;
    private const int MaxPages = 20;

    /// <summary>Items kept per listing (runs of one status, jobs of one run, runners): 2,000.</summary>
    public const int MaxListed = PageSize * MaxPages;

    /// <summary>A page of 100 runs is about 1 MB on GitHub; a reply past this is refused unread.</summary>
    public const long MaxReplyBytes = 8 * 1024 * 1024;

    private const int ReportMemory = 10_000;

    private readonly Uri _baseUri = new(options.GitHubApiUrl.EndsWith('/') ? options.GitHubApiUrl : options.GitHubApiUrl + "/");
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Polly.ResiliencePipeline _transientRetry = TransientRetry.Create(clock ?? TimeProvider.System);
    private readonly GitHubTrust _trust = new(secrets);
    private readonly object _gate = new();
    private readonly ILogger _log = logger ?? (ILogger)NullLogger.Instance;
    private readonly ReportOnce<string> _reported = new(ReportMemory);

    // The credential in use (PAT or App) and its clients: one per PAT, one per App installation.
    private object? _identity;
    private GitHubAppSession? _app;
    private readonly Dictionary<string, Credential> _credentials = new(StringComparer.Ordinal);

    /// <summary>The governor closest to its limit (for metrics and inspection); null before the first call.</summary>
    public GitHubRateLimit? RateLimit
    {
        get
        {
            lock (_gate)
            {
                return _credentials.Values.Select(c => c.Governor.State).OrderBy(s => s.Remaining ?? int.MaxValue).FirstOrDefault();
            }
        }
    }

    /// <summary>The slowest pace any credential in use asks for.</summary>
    public TimeSpan Pace(TimeSpan interval)
    {
        lock (_gate)
        {
            return _credentials.Values.Select(c => c.Governor.Pace(interval)).DefaultIfEmpty(interval).Max();
        }
    }

    /// <summary>The credential for a call on <paramref name="repo"/>: the GitHub App's installation token when Secret
    /// github-app holds a usable App, else the PAT; none for the public <see cref="RunnerRepo"/> with an App or without a PAT. Read at every call, so a rotated Secret counts from the next one.</summary>
    private async Task<Credential> CredentialFor(RepoName repo)
    {
        if (secrets.GitHubApp is { } app)
        {
            if (repo == RunnerRepo)
            {
                return Anonymous();
            }

            var session = SessionOf(app);
            var installation = await session.InstallationForAsync(repo, CancellationToken.None).ConfigureAwait(false);
            var token = await session.TokenAsync(installation, CancellationToken.None).ConfigureAwait(false);
            return Client(app, $"installation {installation}", () => new Credentials(session.Held(installation), AuthenticationType.Bearer), token, session, installation);
        }

        if (secrets.GitHubToken is null && repo == RunnerRepo)
        {
            return Anonymous(); // no credential yet (the Secrets not read yet at start): public data needs none
        }

        var pat = secrets.GitHubToken ?? throw new GitHubCallException("no PAT available", null);
        return Client(pat, $"pat {pat.Fingerprint}", () => new Credentials(pat.Value, AuthenticationType.Bearer), pat.Value, null, null);
    }

    private GitHubAppSession SessionOf(GitHubAppCredentials app)
    {
        lock (_gate)
        {
            if (_app is { } session && session.App.Equals(app))
            {
                return session;
            }

            Forget(app);
            _app = new GitHubAppSession(app, Connect, _clock);
            return _app;
        }
    }

    /// <summary>A new credential (rotated PAT or App Secret) gets new clients, clean caches and its own budgets.</summary>
    private void Forget(object identity)
    {
        if (!Equals(_identity, identity))
        {
            _identity = identity;
            _credentials.Clear();
            if (identity is not GitHubAppCredentials)
            {
                _app = null;
            }
        }
    }

    private Credential Client(object identity, string key, Func<Credentials> credentials, string token, GitHubAppSession? session, long? installation)
    {
        lock (_gate)
        {
            Forget(identity);

            if (!_credentials.TryGetValue(key, out var credential))
            {
                credential = new Credential(NewClient(credentials), new RateLimitGovernor(_clock), null, null, null);
                _credentials[key] = credential;
            }

            return credential with { Token = token, Session = session, Installation = installation };
        }
    }

    private GitHubClient NewClient(Func<Credentials> credentials)
    {
        var client = new GitHubClient(Connect(new GitHubAppSession.CurrentCredentials(credentials)));
        if (options.ConditionalRequests)
        {
            client.ResponseCache = new BoundedResponseCache(shapes: ReplyShapes);
        }

        return client;
    }

    private IConnection Connect(ICredentialStore credentials)
    {
        var connection = new Connection(
            new ProductHeaderValue("blip-actors"),
            _baseUri,
            credentials,
            new HttpClientAdapter(() => Limited(new ReplySizeLimit(MaxReplyBytes)
            {
                InnerHandler = new HttpStatusCounter(CountReply) { InnerHandler = _trust.CreateHandler() },
            })),
            new SimpleJsonSerializer());
        connection.SetRequestTimeout(options.GitHubRequestTimeout);
        return connection;
    }

    // With conditional requests, a listing back at an earlier state answers 304 too (see EarlierRepresentations).
    private HttpMessageHandler Limited(ReplySizeLimit limit) =>
        options.ConditionalRequests ? new EarlierRepresentations { InnerHandler = limit } : limit;

    private void CountReply(int status) =>
        metrics?.GitHubHttpResponses.Inc(status.ToString(CultureInfo.InvariantCulture));

    /// <summary><see cref="CallOnce{T}"/>, through <see cref="TransientRetry"/> for an idempotent call (GET, DELETE).</summary>
    private Task<T> Call<T>(string operation, RepoName repo, GitHubPriority priority, Func<GitHubClient, Task<T>> call, bool idempotent = true) =>
        idempotent
            ? _transientRetry.ExecuteAsync(async _ => await CallOnce(operation, repo, priority, call).ConfigureAwait(false), CancellationToken.None).AsTask()
            : CallOnce(operation, repo, priority, call);

    /// <summary>One call; an installation token GitHub refuses (401: expired or revoked early) is replaced and the call
    /// made once more with the new one, so a lapsed token never fails a job.</summary>
    private async Task<T> CallOnce<T>(string operation, RepoName repo, GitHubPriority priority, Func<GitHubClient, Task<T>> call)
    {
        var credential = await Authenticated(operation, repo).ConfigureAwait(false);
        try
        {
            return await CallWith(operation, credential, priority, call).ConfigureAwait(false);
        }
        catch (GitHubCallException e) when (e.Status == HttpStatusCode.Unauthorized && credential is { Session: { } session, Installation: { } installation })
        {
            session.Refused(installation, credential.Token!);
            _log.LogInformation("repo {Repo}: GitHub refused the token of installation {Installation} ({Operation}); exchanging a new one and trying again", repo, installation, operation);
            return await CallWith(operation, await Authenticated(operation, repo).ConfigureAwait(false), priority, call).ConfigureAwait(false);
        }
    }

    /// <summary>The credential, with a refused certificate explained (once per message) instead of a bare TLS error.</summary>
    private async Task<Credential> Authenticated(string operation, RepoName repo)
    {
        try
        {
            return await CredentialFor(repo).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(operation, e);
        }
        catch (TaskCanceledException e)
        {
            throw new GitHubCallException($"{operation} failed: timed out", null, null, e);
        }
    }

    private GitHubCallException Unreachable(string operation, HttpRequestException e)
    {
        if (GitHubTrust.Explain(e, _baseUri.ToString(), secrets.GitHubCa is not null) is { } tls)
        {
            if (_reported.First(tls))
            {
                _log.LogError("{Problem}", tls);
            }

            return new GitHubCallException($"{operation} failed: {tls}", null, null, e);
        }

        return new GitHubCallException($"{operation} failed: {e.Message}", null, null, e);
    }

    private async Task<T> CallWith<T>(string operation, Credential credential, GitHubPriority priority, Func<GitHubClient, Task<T>> call)
    {
        var governor = credential.Governor;
        var wait = governor.WaitBefore(priority);
        if (wait > TimeSpan.Zero)
        {
            throw new GitHubCallException($"{operation} held back by the rate-limit governor for {wait.TotalSeconds:F0} s", null, wait) { IsRateLimited = true };
        }

        try
        {
            var result = await call(credential.Client).ConfigureAwait(false);
            var limit = credential.Client.GetLastApiInfo()?.RateLimit;
            governor.Observe(limit?.Limit, limit?.Remaining, limit?.Reset, success: true);
            return result;
        }
        catch (ApiException e)
        {
            var translated = Translate(operation, e);
            var remaining = Header(e, "x-ratelimit-remaining");
            var reset = Header(e, "x-ratelimit-reset") is { } epoch ? DateTimeOffset.FromUnixTimeSeconds(epoch) : (DateTimeOffset?)null;
            governor.Observe(Header(e, "x-ratelimit-limit"), remaining, reset, success: false);
            if (translated.IsRateLimited)
            {
                var paused = governor.OnLimited(translated.RetryAfter, remaining, reset);
                throw new GitHubCallException($"{operation} (rate limited: {governor.State.PauseReason})", translated.Status, paused, e) { IsRateLimited = true };
            }

            throw translated;
        }
        catch (Exception e) when (e is SerializationException or FormatException or InvalidCastException or ArgumentException or ReplyTooLargeException)
        {
            // The call went through (and was charged), but its reply is unusable. Never quote the body: it may hold a JIT config.
            var reason = e switch
            {
                ReplyTooLargeException => e.Message,
                SerializationException => "it is not valid JSON",
                _ => $"it does not have the expected shape ({e.GetType().Name})",
            };
            throw new GitHubCallException($"{operation}: GitHub's reply could not be read: {reason}", null, null, e);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(operation, e);
        }
        catch (TaskCanceledException e)
        {
            throw new GitHubCallException($"{operation} failed: timed out", null, null, e);
        }
    }

    private static int? Header(ApiException e, string name) =>
        e.HttpResponse?.Headers is { } headers
        && headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)) is { Value: { } value }
        && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;

    private static GitHubCallException Translate(string operation, ApiException e)
    {
        TimeSpan? retryAfter = Header(e, "retry-after") is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
        var rateLimited = e is RateLimitExceededException or SecondaryRateLimitExceededException
            || retryAfter is not null
            || e.StatusCode == (HttpStatusCode)429
            || (e.StatusCode == HttpStatusCode.Forbidden && Header(e, "x-ratelimit-remaining") == 0);
        var spammed = e.StatusCode == HttpStatusCode.UnprocessableEntity && GitHubReplies.SaysSpammed(e.ApiError?.Message);
        return new GitHubCallException(operation, e.StatusCode, retryAfter) { IsRateLimited = rateLimited, IsSpammed = spammed };
    }

    /// <summary>A client and its governor (one per PAT or installation), with the token it carries for this call.</summary>
    private sealed record Credential(GitHubClient Client, RateLimitGovernor Governor, string? Token, GitHubAppSession? Session, long? Installation);
}
