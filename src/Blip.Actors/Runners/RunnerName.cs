using System.Globalization;
using Blip.Actors.Shared;

namespace Blip.Actors.Runners;

/// <summary>
/// The name of a JIT runner of ours: <c>blip-&lt;jobId&gt;-&lt;suffix&gt;</c>, a new random suffix per registration
/// attempt (GitHub answers 409 to a name in use, and a half-registered name must never be reused). The job id in the
/// name is how the bootstrapper, the orphan sweeper, the webhook receiver and the sandbox's demo find the job a runner
/// was made for. Any other name is not ours: <see cref="TryParse"/> returns null.
/// </summary>
public sealed record RunnerName(JobId Job, string Suffix)
{
    public const string Prefix = "blip-";

    /// <summary>A fresh name for one registration attempt of <paramref name="job"/>.</summary>
    public static RunnerName New(JobId job) => new(job, Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The name, or null for a runner that is not ours (another prefix, no numeric job id).</summary>
    public static RunnerName? TryParse(string? name)
    {
        if (name is null || !name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = name.AsSpan(Prefix.Length);
        var dash = rest.IndexOf('-');
        var id = dash < 0 ? rest : rest[..dash];
        var suffix = dash < 0 ? "" : rest[(dash + 1)..].ToString();
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId) || (dash >= 0 && suffix.Length == 0))
        {
            return null;
        }

        return new RunnerName(new JobId(jobId), suffix);
    }

    /// <summary>The job a runner of ours was made for; null for other runners.</summary>
    public static long? JobOf(string? name) => TryParse(name)?.Job.Value;

    public override string ToString() => Suffix.Length == 0 ? $"{Prefix}{Job}" : $"{Prefix}{Job}-{Suffix}";
}
