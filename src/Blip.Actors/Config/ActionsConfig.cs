using System.Collections.Immutable;
using Blip.Actors.Shared;

namespace Blip.Actors.Config;

/// <summary>
/// The ConfigMap <c>github-actions</c> once parsed: the labels every matched job must carry and the
/// repositories to poll. Immutable, so it can be broadcast to every actor as is.
/// </summary>
public sealed record ActionsConfig(ImmutableArray<string> RunnerLabels, ImmutableArray<RepoName> Repos)
{
    public const string ConfigMapName = "github-actions";
    public const string RunnerLabelsKey = "runner-labels";
    public const string ReposKey = "repos";

    /// <summary>Extra labels that route a job to a VM pool of its own (optional key <c>pools</c>); none by default.</summary>
    public PoolRoutes Pools { get; init; } = PoolRoutes.None;

    /// <summary>More repositories than this are refused (the rest of the list is still used).</summary>
    public const int MaxRepos = 1000;

    public bool Equals(ActionsConfig? other) =>
        other is not null
        && RunnerLabels.SequenceEqual(other.RunnerLabels)
        && Repos.SequenceEqual(other.Repos)
        && Pools.Equals(other.Pools);

    public override int GetHashCode() => HashCode.Combine(RunnerLabels.Length, Repos.Length);

    /// <summary>
    /// Parses the two ConfigMap values: comma-separated, trimmed, empty entries and duplicates dropped.
    /// Each malformed repo is reported by name and skipped; the valid ones still work.
    /// The result has no config when labels or repos end up empty ("actions config incomplete").
    /// </summary>
    public static ActionsConfigParseResult Parse(string? runnerLabels, string? repos)
    {
        var problems = ImmutableArray.CreateBuilder<string>();
        var labels = SplitList(runnerLabels);

        var parsedRepos = ImmutableArray.CreateBuilder<RepoName>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // GitHub repo names are case-insensitive
        foreach (var entry in SplitList(repos))
        {
            if (!RepoName.TryParse(entry, out var repo, out var error))
            {
                problems.Add(error!);
                continue;
            }

            if (!seen.Add(repo!.FullName))
            {
                continue;
            }

            if (parsedRepos.Count == MaxRepos)
            {
                problems.Add($"repo '{repo.FullName}' and later entries ignored: at most {MaxRepos} repos are polled");
                break;
            }

            parsedRepos.Add(repo);
        }

        if (labels.IsEmpty || parsedRepos.Count == 0)
        {
            var missing = labels.IsEmpty && parsedRepos.Count == 0 ? "runner-labels and repos are empty"
                : labels.IsEmpty ? "runner-labels is empty"
                : "repos has no valid entry";
            return new ActionsConfigParseResult(null, problems.ToImmutable(), missing);
        }

        return new ActionsConfigParseResult(new ActionsConfig(labels, parsedRepos.ToImmutable()), problems.ToImmutable(), null);
    }

    /// <summary>Splits a comma-separated value: entries trimmed, empties dropped, exact duplicates dropped, order kept.</summary>
    public static ImmutableArray<string> SplitList(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var result = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in value.Split(','))
        {
            var entry = raw.Trim();
            if (entry.Length > 0 && seen.Add(entry))
            {
                result.Add(entry);
            }
        }

        return result.ToImmutable();
    }
}

/// <param name="Config">The usable configuration, or null when it is incomplete.</param>
/// <param name="Problems">One line per rejected entry, each naming the bad value.</param>
/// <param name="Incomplete">Why there is no configuration, when there is none.</param>
public sealed record ActionsConfigParseResult(ActionsConfig? Config, ImmutableArray<string> Problems, string? Incomplete);
