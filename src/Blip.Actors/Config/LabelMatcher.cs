namespace Blip.Actors.Config;

/// <summary>The spec's label rule: a job matches when every configured runner label is among its
/// <c>runs-on</c> labels. Comparison is ordinal (case-sensitive).</summary>
public static class LabelMatcher
{
    public static bool Matches(IReadOnlyCollection<string> runnerLabels, IEnumerable<string> jobLabels)
    {
        if (runnerLabels.Count == 0)
        {
            return false;
        }

        var job = jobLabels as IReadOnlySet<string> ?? new HashSet<string>(jobLabels, StringComparer.Ordinal);
        return runnerLabels.All(job.Contains);
    }

    /// <summary>
    /// Why a job that does not match would match if case were ignored (GitHub itself compares labels case-insensitively,
    /// the spec does not): the runner labels missing from <c>runs-on</c> only by case, each with the job's spelling.
    /// Empty when the labels match, or when some runner label is missing in any case.
    /// </summary>
    public static IReadOnlyList<(string RunnerLabel, string JobLabel)> CaseOnlyDifferences(IReadOnlyCollection<string> runnerLabels, IEnumerable<string> jobLabels)
    {
        var job = jobLabels.ToList();
        var differences = new List<(string, string)>();
        foreach (var label in runnerLabels)
        {
            if (job.Contains(label, StringComparer.Ordinal))
            {
                continue;
            }

            var other = job.FirstOrDefault(j => string.Equals(j, label, StringComparison.OrdinalIgnoreCase));
            if (other is null)
            {
                return [];
            }

            differences.Add((label, other));
        }

        return differences;
    }

    /// <summary>The end of the mismatch line when the labels differ only in case (empty otherwise): which labels, and the fix.</summary>
    public static string CaseHint(IReadOnlyCollection<string> runnerLabels, IEnumerable<string> jobLabels) =>
        CaseOnlyDifferences(runnerLabels, jobLabels) is { Count: > 0 } differences
            ? $"; they differ only in case ({string.Join(", ", differences.Select(d => $"runner label \"{d.RunnerLabel}\" vs runs-on \"{d.JobLabel}\""))}): " +
              "labels are compared case-sensitively, so spell them the same in runs-on and in the runner-labels key of ConfigMap github-actions"
            : "";
}
