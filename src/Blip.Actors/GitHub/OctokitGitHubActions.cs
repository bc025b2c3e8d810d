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
/// <see cref="IGitHubActions"/> on Octokit, always with the PAT current at the time of the call. Per PAT: one
/// client, one ETag cache (GETs are conditional; a 304 is free) and one <see cref="RateLimitGovernor"/>.
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
    private readonly object _gate = new();
    private readonly ILogger _log = logger ?? (ILogger)NullLogger.Instance;
    private readonly ReportOnce<string> _reported = new(ReportMemory);
    private Credential? _current;

    /// <summary>The governor of the current PAT (for metrics and inspection); null before the first call.</summary>
    public GitHubRateLimit? RateLimit => _current?.Governor.State;

    public TimeSpan Pace(TimeSpan interval) => _current?.Governor.Pace(interval) ?? interval;

    private Credential Current()
    {
        var token = secrets.GitHubToken ?? throw new GitHubCallException("no PAT available", null);
        lock (_gate)
        {
            if (_current is { } c && c.Token.Equals(token))
            {
                return c;
            }

            // A rotated PAT gets a new client, a clean cache and its own budget, from the very next call.
            var connection = new Connection(
                new ProductHeaderValue("blip-actors"),
                _baseUri,
                new InMemoryCredentialStore(new Credentials(token.Value, AuthenticationType.Bearer)),
                new HttpClientAdapter(() => new ReplySizeLimit(MaxReplyBytes)
                {
                    InnerHandler = new HttpStatusCounter(CountReply) { InnerHandler = HttpMessageHandlerFactory.CreateDefault() },
                }),
                new SimpleJsonSerializer());
            connection.SetRequestTimeout(options.GitHubRequestTimeout);
            var client = new GitHubClient(connection);
            if (options.ConditionalRequests)
            {
                client.ResponseCache = new BoundedResponseCache();
            }

            _current = new Credential(token, client, new RateLimitGovernor(_clock));
            return _current;
        }
    }

    private void CountReply(int status) =>
        metrics?.GitHubHttpResponses.Inc(status.ToString(CultureInfo.InvariantCulture));

    /// <summary><see cref="CallOnce{T}"/>, through <see cref="TransientRetry"/> for an idempotent call (GET, DELETE).</summary>
    private Task<T> Call<T>(string operation, GitHubPriority priority, Func<GitHubClient, Task<T>> call, bool idempotent = true) =>
        idempotent
            ? _transientRetry.ExecuteAsync(async _ => await CallOnce(operation, priority, call).ConfigureAwait(false), CancellationToken.None).AsTask()
            : CallOnce(operation, priority, call);

    private async Task<T> CallOnce<T>(string operation, GitHubPriority priority, Func<GitHubClient, Task<T>> call)
    {
        var credential = Current();
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
            throw new GitHubCallException($"{operation} failed: {e.Message}", null, null, e);
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

    private sealed record Credential(GitHubToken Token, GitHubClient Client, RateLimitGovernor Governor);
}
