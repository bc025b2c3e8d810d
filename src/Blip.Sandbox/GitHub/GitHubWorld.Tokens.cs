namespace Blip.Sandbox.GitHub;

/// <summary>PATs (and installation tokens, which share their installation's grant): what each may see and do, and its
/// primary rate budget (an hour's window).</summary>
internal sealed partial class GitHubWorld
{
    private readonly int _defaultRateLimit;
    private readonly Dictionary<string, PatGrant> _pats = new(StringComparer.Ordinal);
    private readonly List<string> _issuedPats = [];

    public string CreateToken(CreateTokenRequest request)
    {
        var actions = ParseLevel(request.Actions, "actions", "read", "none");
        var administration = ParseLevel(request.Administration, "administration", "write", "read", "none");
        var token = "ghp_" + RandomAlphanumeric(36);
        lock (_gate)
        {
            var all = request.Repos.Contains("*");
            foreach (var repo in request.Repos.Where(r => r != "*"))
            {
                EnsureRepo(repo);
            }

            _pats[token] = new PatGrant(
                token,
                all,
                new HashSet<string>(request.Repos.Where(r => r != "*"), StringComparer.OrdinalIgnoreCase),
                actions,
                administration,
                request.RateLimitPerHour ?? _defaultRateLimit);
            _issuedPats.Add(token);
        }
        return token;
    }

    private static string ParseLevel(string value, string what, params string[] allowed) =>
        allowed.Contains(value, StringComparer.Ordinal)
            ? value
            : throw new ArgumentException($"{what} must be one of {string.Join(", ", allowed)}, not '{value}'");

    /// <summary>Requests without credentials: GitHub serves public data to them (here the actions/runner releases) from a
    /// budget of 60 an hour per address; every sandbox client shares one address.</summary>
    public PatGrant Anonymous { get; } = new("", allRepos: false, [], "none", "none", AnonymousRateLimit);

    public const int AnonymousRateLimit = 60;

    public PatGrant? FindToken(string token)
    {
        lock (_gate)
        {
            return _pats.GetValueOrDefault(token) is { } grant && Unexpired(token) ? grant : null;
        }
    }

    /// <summary>Charges one call to the token's primary budget. False (and nothing charged) when it is spent.</summary>
    public bool TryCharge(PatGrant pat, out RateLimitSnapshot snapshot)
    {
        lock (_gate)
        {
            RollWindow(pat);
            if (pat.Used >= pat.Limit)
            {
                snapshot = Snapshot(pat);
                return false;
            }
            pat.Used++;
            snapshot = Snapshot(pat);
            return true;
        }
    }

    /// <summary>Gives a charge back: a 304 is free.</summary>
    public RateLimitSnapshot Refund(PatGrant pat)
    {
        lock (_gate)
        {
            if (pat.Used > 0)
            {
                pat.Used--;
            }

            return Snapshot(pat);
        }
    }

    public RateLimitSnapshot PeekRateLimit(PatGrant pat)
    {
        lock (_gate)
        {
            RollWindow(pat);
            return Snapshot(pat);
        }
    }

    public bool SetBudget(string token, int remaining, int resetSeconds)
    {
        lock (_gate)
        {
            if (!_pats.TryGetValue(token, out var pat))
            {
                return false;
            }

            pat.Used = Math.Clamp(pat.Limit - remaining, 0, pat.Limit);
            pat.ResetAt = Now.AddSeconds(resetSeconds);
            return true;
        }
    }

    private void RollWindow(PatGrant pat)
    {
        var now = Now;
        if (pat.ResetAt is { } reset && now < reset)
        {
            return;
        }

        pat.Used = 0;
        pat.ResetAt = now.AddHours(1);
    }

    private static RateLimitSnapshot Snapshot(PatGrant pat) =>
        new(pat.Limit, pat.Limit - pat.Used, pat.Used, pat.ResetAt!.Value.ToUnixTimeSeconds());
}
