namespace Blip.Sandbox.GitHub;

/// <summary>The fault set in force, replaceable at run time. Decides, per REST call, what goes wrong.</summary>
internal sealed class FaultInjector(TimeProvider time)
{
    private readonly Lock _gate = new();
    private List<ActiveFault> _endpoints = [];
    private SecondaryLimitFault? _secondary;
    private DateTimeOffset _secondaryUntil;

    public void Set(SandboxFaults faults)
    {
        foreach (var f in faults.Endpoints ?? [])
        {
            if (f.ErrorRate is < 0 or > 1)
            {
                throw new ArgumentException($"errorRate of '{f.Endpoint}' must be within 0..1");
            }

            if (f.Status != 0 && f.Status is < 400 or > 599)
            {
                throw new ArgumentException($"status of '{f.Endpoint}' must be an error status");
            }

            if (!Enum.IsDefined(f.Corrupt))
            {
                throw new ArgumentException($"corrupt of '{f.Endpoint}' must be one of {string.Join(", ", Enum.GetNames<ReplyCorruption>())}");
            }
        }
        if (faults.SecondaryLimit is { Status: not (403 or 429) })
        {
            throw new ArgumentException("secondaryLimit.status must be 403 or 429");
        }

        lock (_gate)
        {
            _endpoints = (faults.Endpoints ?? []).Select(f => new ActiveFault(f)).ToList();
            _secondary = faults.SecondaryLimit;
            _secondaryUntil = time.GetUtcNow().AddSeconds(faults.SecondaryLimit?.RetryAfterSeconds ?? 0);
        }
    }

    /// <summary>What happens to a call of <paramref name="endpoint"/>: added latency, and whether it is faulted.</summary>
    public (int LatencyMs, EndpointFault? Fault) Decide(string endpoint)
    {
        lock (_gate)
        {
            var latency = 0;
            EndpointFault? fired = null;
            foreach (var active in _endpoints.Where(a => a.Rule.Endpoint == "*" || a.Rule.Endpoint == endpoint))
            {
                latency += active.Rule.LatencyMs;
                if (fired is null && active.Fires())
                {
                    fired = active.Rule;
                }
            }
            return (latency, fired);
        }
    }

    /// <summary>The secondary limit that refuses this token now, with the seconds left to wait.</summary>
    public (SecondaryLimitFault Fault, int RetryAfter)? SecondaryLimitFor(string token)
    {
        lock (_gate)
        {
            if (_secondary is not { } s || (s.Token is not null && s.Token != token))
            {
                return null;
            }

            var left = _secondaryUntil - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                _secondary = null;
                return null;
            }
            return (s, (int)Math.Ceiling(left.TotalSeconds));
        }
    }

    private sealed class ActiveFault(EndpointFault rule)
    {
        private int? _left = rule.FailCount;
        public EndpointFault Rule { get; } = rule;

        public bool Fires()
        {
            if (_left is { } left)
            {
                if (left <= 0)
                {
                    return false;
                }

                _left = left - 1;
                return true;
            }
            return Rule.ErrorRate > 0 && Random.Shared.NextDouble() < Rule.ErrorRate;
        }
    }
}
