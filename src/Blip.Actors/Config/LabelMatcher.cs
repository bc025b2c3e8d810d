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
}
