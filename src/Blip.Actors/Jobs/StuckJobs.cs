using System.Collections.Immutable;
using Akka.Actor;
using Blip.Actors.Shared;

namespace Blip.Actors.Jobs;

/// <summary>What a <see cref="VmClaimer"/> says on its node's EventStream, so the node's <see cref="StuckJobWatch"/> knows
/// which jobs wait for a VM, since when, and whether their claims fail. Node-local: a job's claimer runs where its actor
/// runs, and says so again after a recovery or a hand-over.</summary>
public static class WaitingForVm
{
    /// <param name="Since">When the job was queued on GitHub (when it was sighted, if GitHub gave no time).</param>
    /// <param name="Pool">The pool the job waits on (routed by key <c>pools</c>, else the default); null: the watch's default pool.</param>
    public sealed record Started(long JobId, RepoName Repo, ImmutableArray<string> Labels, DateTimeOffset Since, string? Pool = null) : INoSerializationVerificationNeeded;

    /// <summary>The claimer's first attempt has an outcome (no VM offered, or an offered VM was not won): from now on the
    /// cause of a long wait can be judged. A claim failure says so too.</summary>
    public sealed record Tried(long JobId) : INoSerializationVerificationNeeded;

    /// <summary>A claim attempt failed (an API error, not "no VM": that is waiting).</summary>
    public sealed record ClaimFailed(long JobId, string Reason, DateTimeOffset At) : INoSerializationVerificationNeeded;

    /// <summary>The claimer stopped: a VM was claimed or the job stopped waiting.</summary>
    public sealed record Stopped(long JobId) : INoSerializationVerificationNeeded;
}

/// <summary>One job waiting for a VM, as the watch knows it.</summary>
/// <param name="Pool">The pool it waits on; null: the watch's default pool.</param>
/// <param name="KnownSince">When the watch learned of it (its claimer started); null: as long as it waits.</param>
/// <param name="Tried">Its claimer's first attempt has an outcome (<see cref="WaitingForVm.Tried"/> or a claim failure).</param>
public sealed record WaitingJob(long JobId, RepoName Repo, ImmutableArray<string> Labels, DateTimeOffset Since, string? LastClaimFailure = null, DateTimeOffset? LastClaimFailureAt = null, string? Pool = null,
    DateTimeOffset? KnownSince = null, bool Tried = true)
{
    /// <summary>The label set as metrics and lines name it: the job's runs-on labels, sorted, comma-separated.</summary>
    public string LabelSet => LabelSetOf(Labels);

    /// <summary>A label set as lines and metrics name it.</summary>
    public static string LabelSetOf(IEnumerable<string> labels) => string.Join(",", labels.Order(StringComparer.Ordinal));
}

/// <summary>Why a job waits longer than it should.</summary>
public enum StuckCause
{
    /// <summary>The pool has claimable VMs and none was claimed for the job: a fault in the controller.</summary>
    VmsClaimableButNotClaimed,

    /// <summary>No VM of the pool is claimable: a capacity problem.</summary>
    NoVmClaimable,

    /// <summary>Claim attempts fail (the API server refuses or errs).</summary>
    ClaimsFailing,
}

/// <summary>The oldest waiting job's age per repo and label set, and the jobs newly past the stuck threshold.</summary>
public sealed record WaitingJobsAssessed(IReadOnlyList<WaitingJobsAssessed.Oldest> OldestByLabelSet) : INoSerializationVerificationNeeded
{
    public sealed record Oldest(string Repo, string LabelSet, double AgeSeconds);
}

/// <summary>The stuck-job rule, pure: which jobs are stuck, why, and the oldest age per repo and label set.</summary>
public static class StuckJobs
{
    /// <summary>A claim failure this recent makes "claims failing" the cause (the claimer retries at most every 30 s).</summary>
    public static readonly TimeSpan RecentFailure = TimeSpan.FromSeconds(90);

    /// <summary>The jobs waiting past the threshold and not named yet. A job is judged only once its claimer's first attempt
    /// has an outcome: before that, the cause would be a guess (a job sighted late, already past the threshold, would be
    /// called a controller fault a moment before its first claim fails). A claimer that never gets an outcome is judged
    /// once the watch has known it for the threshold.</summary>
    public static IReadOnlyList<WaitingJob> NewlyStuck(IEnumerable<WaitingJob> waiting, IReadOnlySet<long> warned, DateTimeOffset now, TimeSpan stuckAfter) =>
        waiting.Where(j => !warned.Contains(j.JobId) && now - j.Since >= stuckAfter && (j.Tried || now - (j.KnownSince ?? j.Since) >= stuckAfter))
            .OrderBy(j => j.Since).ToList();

    public static StuckCause CauseOf(WaitingJob job, int claimableVms, DateTimeOffset now) =>
        job.LastClaimFailureAt is { } failed && now - failed <= RecentFailure ? StuckCause.ClaimsFailing
        : claimableVms > 0 ? StuckCause.VmsClaimableButNotClaimed
        : StuckCause.NoVmClaimable;

    public static WaitingJobsAssessed Assess(IEnumerable<WaitingJob> waiting, DateTimeOffset now) =>
        new(waiting
            .GroupBy(j => (Repo: j.Repo.ToString(), j.LabelSet))
            .Select(g => new WaitingJobsAssessed.Oldest(g.Key.Repo, g.Key.LabelSet, Math.Max(0, (now - g.Min(j => j.Since)).TotalSeconds)))
            .OrderBy(o => o.Repo, StringComparer.Ordinal).ThenBy(o => o.LabelSet, StringComparer.Ordinal)
            .ToList());

    /// <summary>The cause as the warning names it, with what to do.</summary>
    public static string Describe(StuckCause cause, WaitingJob job, int claimableVms, string pool) => cause switch
    {
        StuckCause.ClaimsFailing =>
            $"claims failing (last: {job.LastClaimFailure}): check the controller's access to virtualmachines in its namespace and the API server",
        StuckCause.VmsClaimableButNotClaimed =>
            $"VMs claimable but not claimed ({claimableVms} claimable in pool {pool}): a controller fault; collect the controller logs and report it",
        _ => $"no VM claimable in pool {pool}: every VM is claimed or not ready; raise the VirtualMachinePool's replicas or check why its VMs do not boot",
    };

    public static string Reason(StuckCause cause) => cause switch
    {
        StuckCause.ClaimsFailing => "ClaimsFailing",
        StuckCause.VmsClaimableButNotClaimed => "VmsClaimableButNotClaimed",
        _ => "NoVmClaimable",
    };
}
