using Blip.Actors.Runners;
using Polly;
using Polly.Retry;

namespace Blip.Actors.GitHub;

/// <summary>
/// The retry of an idempotent GitHub call (GET, DELETE) that met a 5xx, a timeout or a broken connection: two more
/// tries, after about ¼ s and 1 s (jittered ±25 %), so one flaky reply does not cost a whole poll. Never retried
/// here: POSTs (their callers handle half-done work), 4xx, rate limits (the governor decides those). A Polly pipeline.
/// </summary>
public static class TransientRetry
{
    /// <summary>Tries in all, the first included.</summary>
    public const int Attempts = 3;

    public static ResiliencePipeline Create(TimeProvider clock) =>
        new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<GitHubCallException>(IsTransient),
                MaxRetryAttempts = Attempts - 1,
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(PauseBefore(args.AttemptNumber, Random.Shared.NextDouble())),
            })
            .Build();

    /// <param name="retry">0 for the first retry.</param>
    /// <param name="jitter">Uniform in [0, 1): ±25 % around the nominal pause.</param>
    public static TimeSpan PauseBefore(int retry, double jitter) =>
        TimeSpan.FromMilliseconds((250 << (2 * retry)) * (0.75 + (jitter / 2)));

    public static bool IsTransient(GitHubCallException e) =>
        !e.IsRateLimited && (e.Status is null ? e.InnerException is HttpRequestException or TaskCanceledException : (int)e.Status >= 500);
}
