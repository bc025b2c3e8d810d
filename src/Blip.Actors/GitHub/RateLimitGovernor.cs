using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.GitHub;

/// <summary>Which calls go first when the budget is short: starting runners and cleaning up before discovery.</summary>
public enum GitHubPriority
{
    Discovery,
    Critical,
}

/// <summary>
/// One per credential: reads <c>x-ratelimit-*</c> from every reply and decides when the next call may go.
/// At 0 remaining nothing is sent until the reset; a <c>retry-after</c> (secondary limit) is honoured to the
/// second; other limit replies back off exponentially from one minute, as GitHub asks. When the budget runs
/// low, discovery is stretched (poll intervals grow) and stops first, keeping a reserve for JIT configs and
/// runner cleanup. Pure apart from the clock it is given, so it is unit-tested.
/// </summary>
public sealed class RateLimitGovernor(TimeProvider clock)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(16);

    // x-ratelimit-reset is whole epoch seconds and clocks differ a little: wait this much past it.
    private static readonly TimeSpan ResetMargin = TimeSpan.FromSeconds(1);

    private readonly object _gate = new();
    private int? _limit;
    private int? _remaining;
    private DateTimeOffset? _reset;
    private DateTimeOffset? _pausedUntil;
    private string? _pauseReason;
    private readonly Backoff _backoff = new(FirstBackoff, MaxBackoff);

    /// <summary>What the governor knows, for metrics and blipctl.</summary>
    public GitHubRateLimit State
    {
        get
        {
            lock (_gate)
            {
                return new GitHubRateLimit(_limit, _remaining, _reset, _pausedUntil > clock.GetUtcNow() ? _pausedUntil : null, _pausedUntil > clock.GetUtcNow() ? _pauseReason : null);
            }
        }
    }

    /// <summary>Calls of lower priority stop when fewer than this many requests are left before the reset.</summary>
    public int DiscoveryReserve
    {
        get
        {
            lock (_gate)
            {
                return Math.Max(20, (_limit ?? 5000) / 50);
            }
        }
    }

    /// <summary>How long to wait before sending a call of this priority; zero: send now.</summary>
    public TimeSpan WaitBefore(GitHubPriority priority)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (_pausedUntil is { } paused && paused > now)
            {
                return paused - now;
            }

            if (_reset is { } reset && reset + ResetMargin > now && _remaining is { } remaining)
            {
                if (remaining <= 0 || (priority == GitHubPriority.Discovery && remaining < Math.Max(20, (_limit ?? 5000) / 50)))
                {
                    return reset + ResetMargin - now;
                }
            }

            return TimeSpan.Zero;
        }
    }

    /// <summary>Stretches a poll interval as the budget runs low: ×1 above 20 % left, up to ×30 near the reserve.</summary>
    public TimeSpan Pace(TimeSpan interval)
    {
        lock (_gate)
        {
            if (_limit is not { } limit || _remaining is not { } remaining || limit <= 0)
            {
                return interval;
            }

            var comfortable = limit * 0.2;
            if (remaining >= comfortable)
            {
                return interval;
            }

            var factor = Math.Clamp(comfortable / Math.Max(remaining, 1), 1, 30);
            return TimeSpan.FromTicks((long)(interval.Ticks * factor));
        }
    }

    /// <summary>Every reply's rate-limit headers (null when absent).</summary>
    public void Observe(int? limit, int? remaining, DateTimeOffset? reset, bool success)
    {
        lock (_gate)
        {
            if (limit is not null && remaining is not null)
            {
                _limit = limit;
                _remaining = remaining;
                _reset = reset;
            }

            if (success)
            {
                _backoff.Reset();
            }
        }
    }

    /// <summary>A 403/429 that says "limited". Returns how long nothing will be sent.</summary>
    public TimeSpan OnLimited(TimeSpan? retryAfter, int? remaining, DateTimeOffset? reset)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            TimeSpan wait;
            if (retryAfter is { } after)
            {
                wait = after;
                _pauseReason = $"secondary rate limit: retry-after {after.TotalSeconds:F0} s";
            }
            else if (remaining == 0 && reset is { } r && r + TimeSpan.FromMinutes(1) > now)
            {
                wait = r + ResetMargin > now ? r + ResetMargin - now : ResetMargin;
                _remaining = 0;
                _reset = r;
                _pauseReason = "rate limit exhausted until reset";
            }
            else
            {
                wait = _backoff.Next();
                _pauseReason = $"rate limited; backing off {wait.TotalSeconds:F0} s";
            }

            _pausedUntil = now + wait;
            return wait;
        }
    }
}
