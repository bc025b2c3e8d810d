namespace Blip.Actors.Runners;

/// <summary>
/// Versions of the GitHub Actions runner on the VMs, as <c>bin/Runner.Listener --version</c> prints them (<c>2.329.0</c>).
/// Pure: unit-tested without a VM.
/// </summary>
public static class RunnerVersion
{
    /// <summary>The version in <paramref name="text"/> (its first non-empty line, a leading <c>v</c> allowed), or null.</summary>
    public static Version? Parse(string? text)
    {
        var line = text?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (line is null)
        {
            return null;
        }

        line = line.TrimStart('v', 'V');
        return Version.TryParse(line, out var version) && version.Build >= 0 ? version : null;
    }

    /// <summary>Whether a runner of <paramref name="version"/> is older than <paramref name="minimum"/>. An unknown version
    /// (the image prints none) is never called outdated: only the runner's own refusal can say so then.</summary>
    public static bool IsBelow(string? version, string? minimum) =>
        Parse(version) is { } v && Parse(minimum) is { } min && v < min;

    /// <summary>The label a version is counted under (<c>blip_runner_starts_total{version}</c>): bounded, never free text.</summary>
    public static string Label(string? version) => Parse(version)?.ToString() ?? "unknown";
}
