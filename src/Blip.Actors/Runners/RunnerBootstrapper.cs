using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Event;
using Blip.Actors.Config;
using Blip.Actors.Vms;
using Blip.Actors.Shared;

namespace Blip.Actors.Runners;

/// <summary>
/// Child of a job actor: starts the JIT runner on the claimed VM. The host key is checked first (a bad one costs no
/// registration), then generate-jitconfig (a name unique per attempt, the job's own labels), then SSH with the host key
/// pinned, the config on stdin only, then <c>blip.io/runner-provisioned=true</c>. A failure the node has seen on another
/// VM too is a configuration fault (<see cref="ConfigurationFaults"/>): the VM is held and the start retried with backoff
/// instead of giving it up. A VM whose runner may have started is never given up on a guess (<see cref="BootstrapDecision"/>).
/// The JIT config lives only in this actor's running task, never in a message, the journal or a log. Reports
/// <see cref="Registered"/>, then <see cref="Started"/>, <see cref="JitFailed"/> (permanent) or <see cref="GaveUpOnVm"/>.
/// </summary>
public sealed class RunnerBootstrapper : ReceiveActor
{
    private readonly RunnerDependencies _deps;
    private readonly long _jobId;
    private readonly RepoName _repo;
    private readonly ImmutableArray<string> _labels;
    private readonly string _vmName;
    private readonly string? _vmUid;
    private readonly long? _previousRunnerId;
    private readonly bool _sweepStale;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();

    public RunnerBootstrapper(RunnerDependencies deps, long jobId, RepoName repo, ImmutableArray<string> labels, string vmName, string? vmUid, long? previousRunnerId, bool sweepStale)
    {
        _sweepStale = sweepStale;
        _deps = deps;
        _jobId = jobId;
        _repo = repo;
        _labels = labels;
        _vmName = vmName;
        _vmUid = vmUid;
        _previousRunnerId = previousRunnerId;
        Receive<Finished>(_ => Context.Stop(Self));
        ReceiveAny(Unhandled);
    }

    /// <param name="sweepStale">After a restart or a lost VM: first delete this job's registrations that never came online
    /// (a crash between generate-jitconfig and the journal, or a half-registration answered with 5xx).</param>
    /// <param name="vmUid">The claimed VM's uid (null for a claim journaled before uids were): a VM of the same name and
    /// another uid is not ours.</param>
    public static Props Props(RunnerDependencies deps, long jobId, RepoName repo, ImmutableArray<string> labels, string vmName, string? vmUid, long? previousRunnerId, bool sweepStale) =>
        Akka.Actor.Props.Create(() => new RunnerBootstrapper(deps, jobId, repo, labels, vmName, vmUid, previousRunnerId, sweepStale));

    protected override void PreStart()
    {
        var parent = Context.Parent;
        var self = Self;
        var ct = _stop.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                parent.Tell(await RunAsync(parent, self, ct).ConfigureAwait(false), self);
            }
            catch (OperationCanceledException)
            {
                // The job actor stopped us (released, capped).
            }
            catch (Exception e)
            {
                parent.Tell(new GaveUpOnVm($"unexpected error: {e.GetType().Name}: {e.Message}"), self);
            }

            self.Tell(Finished.Instance);
        }, CancellationToken.None);
    }

    protected override void PostStop() => _stop.Cancel();

    private async Task<object> RunAsync(IActorRef parent, IActorRef self, CancellationToken ct)
    {
        var vm = (await _deps.Inventory.Ask<VmInventoryProtocol.VmOfJob>(new VmInventoryProtocol.GetVm(_vmName), TimeSpan.FromSeconds(10), ct).ConfigureAwait(false)).Vm;
        if (vm is null || (_vmUid is not null && vm.Uid != _vmUid) || vm.Terminating)
        {
            return new GaveUpOnVm(vm is null || vm.Terminating ? "VM is gone" : "VM is gone (its name belongs to a new VM)");
        }

        if (vm.Annotations.GetValueOrDefault(VmAnnotations.RunnerProvisioned) == "true")
        {
            return new Started(DateTimeOffset.UtcNow); // Started before a crash; the annotation is the record.
        }

        if (_previousRunnerId is { } previous)
        {
            // A registration from before a crash whose start we cannot confirm. Busy means it runs a job: keep it.
            if (await _deps.GitHub.DeleteRunnerAsync(_repo, previous, ct).ConfigureAwait(false) == DeleteRunnerOutcome.Busy)
            {
                return new Started(DateTimeOffset.UtcNow);
            }
        }

        if (vm.Address is null || vm.HostKey is null)
        {
            return new GaveUpOnVm("VM has no address or host key");
        }

        // Checked before generate-jitconfig: a VM that can never be reached safely costs no registration.
        if (PinnedHostKey.Parse(vm.HostKey) is null)
        {
            var malformed = PinnedHostKey.Malformed(_vmName, vm.HostKey);
            _log.Warning("job {0}: {1}; giving this VM up", _jobId, malformed);
            return new GaveUpOnVm(malformed);
        }

        if (_sweepStale && await SweepStaleRegistrationsAsync(keep: null, ct).ConfigureAwait(false) is { } live)
        {
            // A runner of ours from before the stop is online or busy: it was started; adopt it rather than start a second one.
            parent.Tell(new Registered(live.Id, live.Name), self);
            return new Started(DateTimeOffset.UtcNow);
        }

        var (jit, halfRegistered) = await CreateJitConfigAsync(ct).ConfigureAwait(false);
        if (jit is null)
        {
            return new JitFailed("permanent error");
        }

        if (halfRegistered)
        {
            await SweepStaleRegistrationsAsync(jit.RunnerId, ct).ConfigureAwait(false);
        }

        parent.Tell(new Registered(jit.RunnerId, jit.RunnerName), self);
        if (await StartRunnerAsync(new RunnerTarget(_vmName, vm.Address, vm.HostKey), jit, ct).ConfigureAwait(false) is { } gaveUp)
        {
            return gaveUp;
        }

        foreach (var cleared in _deps.Faults.RunnerStarted())
        {
            _log.Info("configuration fault cleared ({0}): a runner started on VM {1}", BootstrapFaults.Label(cleared), _vmName);
        }

        await MarkProvisionedAsync(ct).ConfigureAwait(false);
        _log.Info("job {0} ({1}): runner {2} started on VM {3}", _jobId, _repo, jit.RunnerName, _vmName);
        return new Started(DateTimeOffset.UtcNow);
    }

    /// <summary>SSH until the runner runs (null) or the VM is given up. A VM whose runner may run is never given up
    /// on a guess: run.sh's lock and the registration's status on GitHub decide (<see cref="BootstrapDecision"/>).</summary>
    private async Task<GaveUpOnVm?> StartRunnerAsync(RunnerTarget target, JitRunner jit, CancellationToken ct)
    {
        var options = _deps.Options;
        var delay = TimeSpan.FromSeconds(1);
        var hold = TimeSpan.FromSeconds(2);
        for (var attempt = 1; ; attempt++)
        {
            RunnerShellException failure;
            try
            {
                await _deps.Shell.StartRunnerAsync(target, jit.Config, ct).ConfigureAwait(false);
                return null;
            }
            catch (RunnerShellException e)
            {
                failure = e;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever the shell threw, the command may have gone out: a shell error like the others.
                failure = new RunnerShellException(RunnerShellFailure.Unreachable, $"VM {_vmName}: {e.GetType().Name}: {e.Message}", e, mayHaveStarted: true);
            }

            var verdict = BootstrapFaults.Classify(failure.Failure) is { } cause
                ? _deps.Faults.Observe(cause, _vmName, vms => BootstrapFaults.Describe(cause, vms, options.SshUser, options.RunnerDir))
                : FaultVerdict.VmFault;
            switch (BootstrapDecision.AfterFailure(failure.Failure, failure.MayHaveStarted, attempt, options.SshAttempts, verdict))
            {
                case BootstrapStep.RunnerRuns:
                    _log.Info("job {0}: {1}; an earlier attempt started the runner", _jobId, failure.Message);
                    return null;
                case BootstrapStep.HoldForConfiguration:
                    if (verdict.FirstReport)
                    {
                        ReportConfigurationFault(BootstrapFaults.Classify(failure.Failure)!.Value);
                    }

                    _log.Debug("job {0}: VM {1} held while the configuration fault lasts ({2}); retrying in {3}", _jobId, _vmName, failure.Message, hold);
                    await Task.WhenAny(Task.Delay(hold, ct), _deps.Faults.Changed).ConfigureAwait(false);
                    ct.ThrowIfCancellationRequested();
                    hold = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, hold.Ticks * 2));
                    continue;
                case BootstrapStep.CheckRegistrationThenRetry when await RegistrationRunsAsync(jit.RunnerId, ct).ConfigureAwait(false):
                    _log.Info("job {0}: {1}, but runner {2} is online on GitHub: it started", _jobId, failure.Message, jit.RunnerName);
                    return null;
                case BootstrapStep.CheckRegistrationThenRetry or BootstrapStep.Retry:
                    _log.Warning($"job {_jobId}: SSH to VM {_vmName} failed ({failure.Failure}: {failure.Message}); attempt {attempt} of {options.SshAttempts}, retrying in {delay}");
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                    delay *= 2;
                    continue;
                default:
                    if (failure.Failure != RunnerShellFailure.HostKeyMismatch && await RegistrationRunsAsync(jit.RunnerId, ct).ConfigureAwait(false))
                    {
                        _log.Info("job {0}: {1}, but runner {2} is online on GitHub: it started; keeping VM {3}", _jobId, failure.Message, jit.RunnerName, _vmName);
                        return null;
                    }

                    _log.Warning("job {0}: SSH to VM {1} failed ({2}: {3}); giving this VM up", _jobId, _vmName, failure.Failure, failure.Message);
                    if (await DeleteRegistrationAsync(jit.RunnerId, ct).ConfigureAwait(false) == DeleteRunnerOutcome.Busy)
                    {
                        _log.Info("job {0}: runner {1} is busy with a job (GitHub refused to delete it): it started; keeping VM {2}", _jobId, jit.RunnerName, _vmName);
                        return null;
                    }

                    return new GaveUpOnVm($"{failure.Failure}: {failure.Message}");
            }
        }
    }

    /// <summary>One error line, one Warning event on the VM, one count: the rest of the fault is quiet.</summary>
    private void ReportConfigurationFault(ConfigurationFaultCause cause)
    {
        var message = _deps.Faults.Active.GetValueOrDefault(cause) ?? cause.ToString();
        _log.Error("configuration fault: {0}; VMs are no longer given up for it, retrying with backoff until it is fixed", message);
        _ = _deps.Pool.RecordEventAsync(_vmName, _vmUid, new VmEvent("ConfigurationFault", message, Warning: true), CancellationToken.None);
    }

    /// <summary>Whether GitHub shows the registration online or busy: its runner runs. Unknown (call failed) is false.</summary>
    private async Task<bool> RegistrationRunsAsync(long runnerId, CancellationToken ct)
    {
        try
        {
            return BootstrapDecision.RegistrationRuns(await _deps.GitHub.GetRunnerAsync(_repo, runnerId, ct).ConfigureAwait(false));
        }
        catch (GitHubCallException e)
        {
            _log.Warning("job {0}: could not read runner registration {1} ({2})", _jobId, runnerId, e.Message);
            return false;
        }
    }

    /// <summary>generate-jitconfig until it works or fails permanently (null). 409 → a new name at once; 5xx, limits and a
    /// 422 "endpoint has been spammed" → backoff (1 s doubling to at most 60 s, until the job actor stops us).
    /// <c>HalfRegistered</c>: an attempt failed in a way that may still have registered a runner.</summary>
    private async Task<(JitRunner? Runner, bool HalfRegistered)> CreateJitConfigAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(1);
        var halfRegistered = false;
        while (true)
        {
            var name = RunnerName.New(new JobId(_jobId)).ToString();
            try
            {
                return (await _deps.GitHub.GenerateJitConfigAsync(_repo, name, _labels, ct).ConfigureAwait(false), halfRegistered);
            }
            catch (GitHubCallException e) when (e.Status == HttpStatusCode.Conflict)
            {
                _log.Warning("job {0}: failed to create JIT runner config: HTTP 409 (runner name {1} taken); retrying with a new name", _jobId, name);
            }
            catch (GitHubCallException e) when (e.IsPermanent)
            {
                var status = (int)e.Status!.Value;
                _log.Error($"job {_jobId} ({_repo}): failed to create JIT runner config: HTTP {status}; the PAT lacks permission or is not authorized for the repo (needs Administration read & write)");
                return (null, halfRegistered);
            }
            catch (GitHubCallException e)
            {
                // Refused before anything was done (rate limit, a spammed endpoint): no runner can have been registered.
                halfRegistered |= !e.IsRateLimited && !e.IsSpammed;
                var wait = e.RetryAfter ?? delay;
                _log.Warning("job {0} ({1}): failed to create JIT runner config: {2}; retrying in {3}",
                    _jobId, _repo, e.IsSpammed ? "HTTP 422 (GitHub says the endpoint has been spammed)" : e.Status is { } s && !e.IsRateLimited ? $"HTTP {(int)s}" : e.Message, wait);
                await Task.Delay(wait, ct).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(60).Ticks, delay.Ticks * 2));
            }
        }
    }

    /// <summary>Deletes this job's registrations that never came online (except <paramref name="keep"/>);
    /// returns one that is online or busy, if any, untouched.</summary>
    private async Task<RunnerInfo?> SweepStaleRegistrationsAsync(long? keep, CancellationToken ct)
    {
        RunnerInfo? live = null;
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

                _log.Info("job {0}: deleting stale runner registration {1} ({2})", _jobId, runner.Name, runner.Status);
                await _deps.GitHub.DeleteRunnerAsync(_repo, runner.Id, ct).ConfigureAwait(false);
            }
        }
        catch (GitHubCallException e)
        {
            _log.Warning("job {0}: could not sweep stale runner registrations ({1})", _jobId, e.Message);
        }

        return live;
    }

    /// <summary>The runner runs now, whatever happens to this annotation: failing to write it must not give the VM up
    /// (that would kill a working runner). It only speeds up recovery after a restart.</summary>
    private async Task MarkProvisionedAsync(CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _deps.Pool.AnnotateAsync(_vmName, _vmUid, new Dictionary<string, string?> { [VmAnnotations.RunnerProvisioned] = "true" }, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.Warning("job {0}: could not mark VM {1} provisioned ({2}); the runner runs regardless", _jobId, _vmName, e.Message);
                return;
            }
        }
    }

    private async Task<DeleteRunnerOutcome?> DeleteRegistrationAsync(long runnerId, CancellationToken ct)
    {
        try
        {
            return await _deps.GitHub.DeleteRunnerAsync(_repo, runnerId, ct).ConfigureAwait(false);
        }
        catch (GitHubCallException e)
        {
            _log.Warning("job {0}: could not delete runner registration {1} ({2}); the janitor will", _jobId, runnerId, e.Message);
            return null;
        }
    }

    public sealed record Registered(long RunnerId, string RunnerName) : INoSerializationVerificationNeeded;

    public sealed record Started(DateTimeOffset At) : INoSerializationVerificationNeeded;

    public sealed record JitFailed(string Reason) : INoSerializationVerificationNeeded;

    public sealed record GaveUpOnVm(string Reason) : INoSerializationVerificationNeeded;

    private sealed class Finished : INoSerializationVerificationNeeded
    {
        public static readonly Finished Instance = new();
    }
}
