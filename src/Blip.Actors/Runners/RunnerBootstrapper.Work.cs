using Akka.Actor;
using Akka.Event;
using Blip.Actors.Vms;

namespace Blip.Actors.Runners;

/// <summary>The bootstrapper's async work, one method per step, and the messages that bring each result back. The
/// methods read only the actor's immutable fields and their arguments: every decision is taken in a receive.</summary>
public sealed partial class RunnerBootstrapper
{
    /// <summary>A registration from before a restart: online or busy, its runner runs; else it is deleted (busy by then: runs).</summary>
    private async Task<PreviousSettled> SettlePreviousAsync(long runnerId, CancellationToken ct)
    {
        if (BootstrapDecision.RegistrationRuns(await _deps.GitHub.GetRunnerAsync(_repo, runnerId, ct).ConfigureAwait(false)))
        {
            return new PreviousSettled(Runs: true);
        }

        return new PreviousSettled(await _deps.GitHub.DeleteRunnerAsync(_repo, runnerId, ct).ConfigureAwait(false) == DeleteRunnerOutcome.Busy);
    }

    /// <summary>After a stop before the runner ran: deletes what this bootstrapper registered under <paramref name="names"/>,
    /// once the generate-jitconfig call in flight (if any) has landed. Never cancelled: the actor is gone, the registration
    /// is not.</summary>
    private async Task DeleteUnstartedAsync(Task<IStepResult>? inFlight, JitRunner? known, IReadOnlySet<string> names)
    {
        if (inFlight is not null && await inFlight.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default).ConfigureAwait(false) is JitGenerated landed)
        {
            known = landed.Runner;
        }

        if (known is not null && names.Count == 1 && names.Contains(known.RunnerName))
        {
            await _deps.GitHub.DeleteRunnerAsync(_repo, known.RunnerId, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        // A 5xx may have registered a name without telling its id: find them by name.
        await JobRegistrations.DeleteAsync(_deps.GitHub, _repo, r => names.Contains(r.Name), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Deletes this job's registrations that never came online (except <paramref name="keep"/>); brings back one
    /// that is online or busy, if any, untouched.</summary>
    private async Task<Swept> SweepAsync(long? keep, CancellationToken ct)
    {
        RunnerInfo? live = null;
        var deleting = new List<RunnerInfo>();
        try
        {
            foreach (var runner in await _deps.GitHub.ListRunnersAsync(_repo, ct).ConfigureAwait(false))
            {
                if (runner.Id == keep || RunnerName.JobOf(runner.Name) != _jobId)
                {
                    continue;
                }

                if (runner.Busy || runner.Status == "online")
                {
                    live ??= runner;
                    continue;
                }

                deleting.Add(runner);
                await _deps.GitHub.DeleteRunnerAsync(_repo, runner.Id, ct).ConfigureAwait(false);
            }
        }
        catch (GitHubCallException e)
        {
            return new Swept(live, deleting, e.Message);
        }

        return new Swept(live, deleting, null);
    }

    private async Task<IStepResult> GenerateJitConfigAsync(string name, CancellationToken ct)
    {
        try
        {
            return new JitGenerated(await _deps.GitHub.GenerateJitConfigAsync(_repo, name, _labels, ct).ConfigureAwait(false));
        }
        catch (GitHubCallException e)
        {
            return new JitRefused(name, e);
        }
    }

    private async Task<IStepResult> StartOnVmAsync(RunnerTarget target, JitConfig config, CancellationToken ct)
    {
        try
        {
            return new ShellStarted(await _deps.Shell.StartRunnerAsync(target, config, ct).ConfigureAwait(false));
        }
        catch (RunnerShellException e)
        {
            return new ShellFailed(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever the shell threw, the command may have gone out: a shell error like the others.
            return new ShellFailed(new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {target.VmName}: {e.GetType().Name}: {e.Message}", e, mayHaveStarted: true));
        }
    }

    /// <summary>Whether GitHub shows the registration online or busy: its runner runs. Unknown (call failed) is false.</summary>
    private async Task<RegistrationChecked> CheckRegistrationAsync(long runnerId, RunnerShellException failure, bool giveUpUnlessRuns, CancellationToken ct)
    {
        try
        {
            var runs = BootstrapDecision.RegistrationRuns(await _deps.GitHub.GetRunnerAsync(_repo, runnerId, ct).ConfigureAwait(false));
            return new RegistrationChecked(runs, failure, giveUpUnlessRuns, null);
        }
        catch (GitHubCallException e)
        {
            return new RegistrationChecked(false, failure, giveUpUnlessRuns, e.Message);
        }
    }

    private async Task<RegistrationDeleted> DeleteRegistrationAsync(long runnerId, RunnerShellException failure, CancellationToken ct)
    {
        try
        {
            return new RegistrationDeleted(await _deps.GitHub.DeleteRunnerAsync(_repo, runnerId, ct).ConfigureAwait(false), failure, null);
        }
        catch (GitHubCallException e)
        {
            return new RegistrationDeleted(null, failure, e.Message);
        }
    }

    private async Task<Marked> MarkProvisionedAsync(CancellationToken ct)
    {
        try
        {
            await _deps.Pool.AnnotateAsync(_vmName, _vmUid, new Dictionary<string, string?> { [VmAnnotations.RunnerProvisioned] = "true" }, ct).ConfigureAwait(false);
            return new Marked(null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new Marked(e.Message);
        }
    }

    public sealed record Registered(long RunnerId, string RunnerName) : INoSerializationVerificationNeeded;

    public sealed record Started(DateTimeOffset At) : INoSerializationVerificationNeeded;

    public sealed record JitFailed(string Reason) : INoSerializationVerificationNeeded;

    public sealed record GaveUpOnVm(string Reason) : INoSerializationVerificationNeeded;

    /// <summary>What a step's work brings back to the actor: local only, and never a dead-letter log line when it arrives
    /// after the stop (one of them carries the JIT config).</summary>
    internal interface IStepResult : INoSerializationVerificationNeeded, IDeadLetterSuppression;

    /// <summary>The registration and its JIT config. Prints the config redacted (<see cref="JitConfig"/>); never persisted.</summary>
    internal sealed record JitGenerated(JitRunner Runner) : IStepResult
    {
        public override string ToString() => $"JitGenerated(runner {Runner.RunnerId} {Runner.RunnerName}, config redacted)";
    }

    private sealed record JitRefused(string RunnerName, GitHubCallException Error) : IStepResult;

    private sealed record PreviousSettled(bool Runs) : IStepResult;

    private sealed record Swept(RunnerInfo? Live, IReadOnlyList<RunnerInfo> Deleting, string? Error) : IStepResult;

    private sealed record ShellStarted(RunnerStart Runner) : IStepResult;

    private sealed record ShellFailed(RunnerShellException Failure) : IStepResult;

    private sealed record RegistrationChecked(bool Runs, RunnerShellException Failure, bool GiveUpUnlessRuns, string? Error) : IStepResult;

    private sealed record RegistrationDeleted(DeleteRunnerOutcome? Outcome, RunnerShellException Failure, string? Error) : IStepResult;

    private sealed record Marked(string? Error) : IStepResult;

    private sealed record StepFailed(Exception Error) : IStepResult;

    private sealed record RetryStart(int Attempt) : IStepResult;

    private sealed class ConfigurationMayHaveChanged : IStepResult
    {
        public static readonly ConfigurationMayHaveChanged Instance = new();
    }

    private sealed class RetryJitConfig : IStepResult
    {
        public static readonly RetryJitConfig Instance = new();
    }

    private sealed class RetryMark : IStepResult
    {
        public static readonly RetryMark Instance = new();
    }

    private sealed class VmLookupSlowed : IStepResult
    {
        public static readonly VmLookupSlowed Instance = new();
    }
}
