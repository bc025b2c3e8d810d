using Akka.Actor;

namespace Blip.Actors.Jobs;

/// <summary>
/// What a job actor tells itself (timers, finished async work) and how a child's report reaches
/// <see cref="JobState.Decide"/>. With <see cref="JobCommands"/>, <see cref="JobQueries.GetStatus"/> and Akka's
/// <see cref="ReceiveTimeout"/> and <see cref="Akka.Persistence.RecoveryCompleted"/>, these are every input a job decides on.
/// </summary>
public static class JobInputs
{
    /// <summary>A child's report (<see cref="VmClaimer.Claimed"/> or a bootstrapper's report): only the current child,
    /// in the phase it was started for, is listened to; a VM a stale claimer claimed is given back.</summary>
    public sealed record ChildReport(object Report, bool FromCurrentChild) : INoSerializationVerificationNeeded;

    /// <summary>The VM reached the hard cap (claim + <c>blip.io/max-duration</c>).</summary>
    public sealed class HardCap : INoSerializationVerificationNeeded
    {
        public static readonly HardCap Instance = new();
    }

    /// <summary>Periodic while claiming: has a poll seen the job queued lately?</summary>
    public sealed class CheckSighting : INoSerializationVerificationNeeded
    {
        public static readonly CheckSighting Instance = new();
    }

    /// <summary>Periodic while running: the backstop when no free signal (VM stopped, webhook) came.</summary>
    public sealed class CheckRunner : INoSerializationVerificationNeeded
    {
        public static readonly CheckRunner Instance = new();
    }

    /// <summary>Releasing: (re)start the release of the job's VM.</summary>
    public sealed class StartRelease : INoSerializationVerificationNeeded
    {
        public static readonly StartRelease Instance = new();
    }

    /// <summary>The runner check's answer about <paramref name="RunnerId"/>: an outcome when the runner is done, a reason alone
    /// when the check failed. Heard in every phase: it ends the check in flight even when the job has moved on.</summary>
    public sealed record RunnerChecked(long RunnerId, JobOutcome? Outcome, string? Reason) : INoSerializationVerificationNeeded;

    /// <summary>The release of <paramref name="VmName"/> finished; <paramref name="Error"/> when it failed.</summary>
    public sealed record ReleaseDone(string VmName, string? Error) : INoSerializationVerificationNeeded;
}
