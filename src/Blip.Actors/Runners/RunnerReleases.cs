namespace Blip.Actors.Runners;

/// <summary>A release of actions/runner as <c>GET /repos/actions/runner/releases</c> lists it.</summary>
/// <param name="TagName">The tag, <c>v2.330.0</c>.</param>
public sealed record RunnerRelease(string TagName, DateTimeOffset PublishedAt, bool Prerelease = false, bool Draft = false);

/// <summary>Where a runner version stands against GitHub's releases.</summary>
/// <param name="DaysBehind">Days since the first release newer than the runner was published: GitHub's 30-day window to
/// update started then (0 when the runner is the newest).</param>
/// <param name="Deadline">When that window closes; null when nothing newer is out.</param>
/// <param name="Warn">The window is closing (<see cref="RunnerReleases.WarnAfterDays"/> days or more have passed).</param>
public sealed record RunnerCurrency(string Version, string? Newest, double DaysBehind, DateTimeOffset? Deadline, bool Warn);

/// <summary>
/// GitHub requires self-hosted runners to update within 30 days of a new runner release, and refuses older ones. Pure:
/// what the releases (drafts and prereleases ignored) say about a version, unit-tested with dates.
/// </summary>
public static class RunnerReleases
{
    public const int UpdateWindowDays = 30;

    /// <summary>A week before the window closes: time to rebuild the image.</summary>
    public const int WarnAfterDays = 23;

    /// <summary>How <paramref name="version"/> stands at <paramref name="now"/>; null when the version is unknown.</summary>
    public static RunnerCurrency? Assess(string? version, IEnumerable<RunnerRelease> releases, DateTimeOffset now)
    {
        if (RunnerVersion.Parse(version) is not { } running)
        {
            return null;
        }

        var published = releases
            .Where(r => !r.Draft && !r.Prerelease && r.PublishedAt <= now)
            .Select(r => (Release: r, Version: RunnerVersion.Parse(r.TagName)))
            .Where(r => r.Version is not null)
            .ToList();
        var newer = published.Where(r => r.Version! > running).ToList();
        if (newer.Count == 0)
        {
            return new RunnerCurrency(running.ToString(), published.Count == 0 ? null : published.Max(r => r.Version)!.ToString(), 0, null, false);
        }

        var first = newer.MinBy(r => r.Release.PublishedAt).Release;
        var behind = (now - first.PublishedAt).TotalDays;
        return new RunnerCurrency(running.ToString(), newer.Max(r => r.Version)!.ToString(), behind, first.PublishedAt.AddDays(UpdateWindowDays), behind >= WarnAfterDays);
    }

    /// <summary>Days left in the window to update <paramref name="currency"/>'s version (0 once it closed);
    /// <see cref="UpdateWindowDays"/> while nothing newer is out (the whole window is still ahead).</summary>
    public static double DaysLeft(RunnerCurrency currency, DateTimeOffset now) =>
        currency.Deadline is { } deadline ? Math.Max(0, (deadline - now).TotalDays) : UpdateWindowDays;

    /// <summary>The warning for a version whose window closes soon or has closed: the version, the newer release, the
    /// date, and the image to rebuild.</summary>
    public static string Describe(RunnerCurrency currency, string newest, DateTimeOffset deadline, DateTimeOffset now)
    {
        var date = deadline.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
        var when = deadline > now
            ? $"closes {date} (in {Math.Ceiling((deadline - now).TotalDays):0} days); then GitHub refuses it"
            : $"closed {date}: GitHub may refuse it now";
        return $"runner {currency.Version} started on this node's VMs is behind actions/runner {newest}: GitHub's {UpdateWindowDays}-day window to update {when}; " +
               $"rebuild the VM image with a current runner (images/github-runner, RUNNER_VERSION={newest}) and roll the pool";
    }
}
