
namespace Blip.Actors.Runners;

/// <summary>What the bootstrapper does after a failed attempt to start the runner.</summary>
public enum BootstrapStep
{
    /// <summary>Try again after the backoff.</summary>
    Retry,

    /// <summary>The command may have started run.sh: if GitHub shows the registration online or busy, it did; else retry.</summary>
    CheckRegistrationThenRetry,

    /// <summary>run.sh's lock is held: a runner runs on the VM (an earlier attempt started it).</summary>
    RunnerRuns,

    /// <summary>A configuration fault: keep the VM and retry with backoff until the configuration is fixed.</summary>
    HoldForConfiguration,

    /// <summary>Give the VM up (after the registration showed nothing runs there).</summary>
    GiveUp,
}

/// <summary>The bootstrapper's decisions, as pure functions of the facts (unit-tested without actors).</summary>
public static class BootstrapDecision
{
    public static BootstrapStep AfterFailure(RunnerShellFailure failure, bool mayHaveStarted, int attempt, int maxAttempts, FaultVerdict verdict) =>
        failure switch
        {
            RunnerShellFailure.AlreadyRunning => BootstrapStep.RunnerRuns,
            RunnerShellFailure.HostKeyMismatch => BootstrapStep.GiveUp, // never trusted, never retried
            _ when verdict.IsConfigurationFault => BootstrapStep.HoldForConfiguration,
            RunnerShellFailure.RunnerOutdated => BootstrapStep.GiveUp, // the same runner on this VM is refused again: try another VM (a second one makes it a configuration fault)
            _ when attempt >= maxAttempts => BootstrapStep.GiveUp,
            _ when mayHaveStarted => BootstrapStep.CheckRegistrationThenRetry,
            _ => BootstrapStep.Retry,
        };

    /// <summary>A registration online (its runner listens) or busy (runs a job) has a runner behind it: that VM is in use.</summary>
    public static bool RegistrationRuns(RunnerInfo? registration) =>
        registration is { Busy: true } or { Status: "online" };
}
