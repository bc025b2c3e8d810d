using System.Globalization;

namespace Blip.Actors.Jobs;

/// <summary>A job actor's persistence id, <c>job-ID</c>: made and read in one place.</summary>
public static class JobPersistenceIds
{
    public const string Prefix = "job-";

    public static string Of(long jobId) => Prefix + jobId.ToString(CultureInfo.InvariantCulture);

    public static string Of(string entityId) => Prefix + entityId;

    /// <summary>The job id of a job actor's persistence id; null for any other persistence id.</summary>
    public static long? JobIdOf(string persistenceId) =>
        persistenceId.StartsWith(Prefix, StringComparison.Ordinal)
        && long.TryParse(persistenceId.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;
}
