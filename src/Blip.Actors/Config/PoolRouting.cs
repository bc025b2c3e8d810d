using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Blip.Actors.Config;

/// <summary>
/// The optional key <c>pools</c> of ConfigMap <c>github-actions</c>, parsed: each extra <c>runs-on</c> label that routes a
/// job to a VM pool of its own (<c>pools: "large=blip-large,gpu=blip-gpu"</c>). Empty when the key is absent: every job is
/// served from the default pool (<c>Blip:Pool</c>), as without routing.
/// </summary>
public sealed partial record PoolRoutes(ImmutableDictionary<string, string> PoolByLabel)
{
    public const string Key = "pools";

    public static readonly PoolRoutes None = new(ImmutableDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal));

    private const string Fix = "write label=pool entries separated by commas, e.g. pools: \"large=blip-large,gpu=blip-gpu\"";

    public bool IsEmpty => PoolByLabel.IsEmpty;

    /// <summary>The pools jobs can be routed to (not the default pool).</summary>
    public IEnumerable<string> Pools => PoolByLabel.Values.Distinct(StringComparer.Ordinal);

    public bool Equals(PoolRoutes? other) =>
        other is not null && PoolByLabel.Count == other.PoolByLabel.Count
        && PoolByLabel.All(kv => other.PoolByLabel.TryGetValue(kv.Key, out var pool) && pool == kv.Value);

    public override int GetHashCode() => PoolByLabel.Count;

    public override string ToString() => string.Join(",", PoolByLabel.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>
    /// Parses the value of <c>pools</c>: comma-separated <c>label=pool</c> entries, trimmed, empty entries dropped (as the
    /// other keys do). The whole value is refused at the first bad entry — a job routed by half a configuration could land
    /// on the wrong VM size — with one line naming the key, the entry and the fix.
    /// </summary>
    /// <param name="runnerLabels">The configured <c>runner-labels</c>: a routing label must be none of them (every job carries those).</param>
    public static PoolRoutesParseResult Parse(string? value, IReadOnlyCollection<string> runnerLabels)
    {
        var routes = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var raw in (value ?? "").Split(','))
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
            {
                continue;
            }

            var parts = entry.Split('=');
            var problem = parts.Length != 2 ? "is not one label=pool pair"
                : parts[0].Trim().Length == 0 ? "has an empty label"
                : parts[1].Trim().Length == 0 ? "has an empty pool"
                : !LabelPattern().IsMatch(parts[0].Trim()) ? "has a label with whitespace"
                : !PoolPattern().IsMatch(parts[1].Trim()) ? "names a pool that is not a Kubernetes name (lowercase letters, digits and '-', at most 63)"
                : routes.ContainsKey(parts[0].Trim()) ? $"repeats label \"{parts[0].Trim()}\", already routed to pool {routes[parts[0].Trim()]}"
                : runnerLabels.Contains(parts[0].Trim(), StringComparer.Ordinal) ? $"routes \"{parts[0].Trim()}\", which is one of runner-labels (every job carries it)"
                : null;
            if (problem is not null)
            {
                return new PoolRoutesParseResult(null, $"ConfigMap {ActionsConfig.ConfigMapName}: key {Key}: entry \"{entry}\" {problem}; {Fix}");
            }

            routes[parts[0].Trim()] = parts[1].Trim();
        }

        return new PoolRoutesParseResult(routes.Count == 0 ? None : new PoolRoutes(routes.ToImmutable()), null);
    }

    [GeneratedRegex(@"^\S+$")]
    private static partial Regex LabelPattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex PoolPattern();
}

/// <param name="Routes">The routes, or null when the value is bad.</param>
/// <param name="Error">The one line that says what is wrong and how to fix it, when it is bad.</param>
public sealed record PoolRoutesParseResult(PoolRoutes? Routes, string? Error);

/// <summary>Where a job is served from: the default pool, a routed pool, or nowhere and why.</summary>
/// <param name="Pool">The routed pool; null for the default pool (<c>Blip:Pool</c>) or when the job does not match.</param>
/// <param name="RoutingLabel">The label that routed it, if any.</param>
/// <param name="Mismatch">Why it does not match (the end of a <c>job labels do not match runner labels</c> line); null when it matches.</param>
public sealed record PoolRoute(string? Pool, string? RoutingLabel, string? Mismatch)
{
    public bool Matches => Mismatch is null;

    /// <summary>
    /// The routing rule, pure. Every configured runner label must be in <c>runs-on</c> (the spec's rule, <see cref="LabelMatcher"/>).
    /// No routing label: the default pool, today's rule. One routing label: its pool, and <c>runs-on</c> must be within
    /// runner-labels plus that label — the runner is registered with exactly those, so GitHub could give it no job asking
    /// for more. Two or more routing labels: no pool serves both.
    /// </summary>
    public static PoolRoute Decide(IReadOnlyCollection<string> runnerLabels, PoolRoutes routes, IReadOnlyCollection<string> jobLabels)
    {
        if (!LabelMatcher.Matches(runnerLabels, jobLabels))
        {
            return new PoolRoute(null, null, $"job runs-on [{string.Join(",", jobLabels)}], runner-labels [{string.Join(",", runnerLabels)}]{LabelMatcher.CaseHint(runnerLabels, jobLabels)}");
        }

        var routing = jobLabels.Where(routes.PoolByLabel.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
        switch (routing.Count)
        {
            case 0:
                return new PoolRoute(null, null, null);
            case > 1:
                return new PoolRoute(null, null,
                    $"job runs-on [{string.Join(",", jobLabels)}] carries {routing.Count} routing labels of key {PoolRoutes.Key} ({string.Join(", ", routing.Select(l => $"\"{l}\" to pool {routes.PoolByLabel[l]}"))}); " +
                    "a job is served from one pool, so keep one of them in runs-on");
        }

        var label = routing[0];
        var extra = jobLabels.Where(l => l != label && !runnerLabels.Contains(l, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        return extra.Count == 0
            ? new PoolRoute(routes.PoolByLabel[label], label, null)
            : new PoolRoute(null, label,
                $"job runs-on [{string.Join(",", jobLabels)}] is routed by \"{label}\" to pool {routes.PoolByLabel[label]}, whose runners carry runner-labels [{string.Join(",", runnerLabels)}] plus \"{label}\" only, " +
                $"not [{string.Join(",", extra)}]; drop those from runs-on or add them to runner-labels");
    }
}
