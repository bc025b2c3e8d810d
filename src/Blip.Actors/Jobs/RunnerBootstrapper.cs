using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Event;
using Blip.Actors.Config;
using Blip.Actors.Runners;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>
/// Child of a job actor: starts the JIT runner on the claimed VM. generate-jitconfig (a name unique per attempt,
/// the job's own labels), then SSH with the host key pinned, the config on stdin only, then
/// <c>blip.io/runner-provisioned=true</c>. The JIT config lives only in this actor's running task, never in a
/// message, the journal or a log. Reports <see cref="Registered"/>, then <see cref="Started"/>,
/// <see cref="JitFailed"/> (permanent) or <see cref="GaveUpOnVm"/>.
/// </summary>
public sealed class RunnerBootstrapper : ReceiveActor
{
    private readonly JobDependencies _deps;
    private readonly long _jobId;
    private readonly RepoName _repo;
    private readonly ImmutableArray<string> _labels;
    private readonly string _vmName;
    private readonly string? _vmUid;
    private readonly long? _previousRunnerId;
    private readonly bool _sweepStale;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();

    public RunnerBootstrapper(JobDependencies deps, long jobId, RepoName repo, ImmutableArray<string> labels, string vmName, string? vmUid, long? previousRunnerId, bool sweepStale)
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
    public static Props Props(JobDependencies deps, long jobId, RepoName repo, ImmutableArray<string> labels, string vmName, string? vmUid, long? previousRunnerId, bool sweepStale) =>
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
        var options = _deps.Options;
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
        var target = new RunnerTarget(_vmName, vm.Address, vm.HostKey);
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _deps.Shell.StartRunnerAsync(target, jit.Config, ct).ConfigureAwait(false);
                break;
            }
            catch (RunnerShellException e) when (e.Failure == RunnerShellFailure.HostKeyMismatch || attempt >= options.SshAttempts)
            {
                _log.Warning("job {0}: SSH to VM {1} failed ({2}: {3}); giving this VM up", _jobId, _vmName, e.Failure, e.Message);
                await DeleteRegistrationAsync(jit.RunnerId, ct).ConfigureAwait(false);
                return new GaveUpOnVm($"{e.Failure}: {e.Message}");
            }
            catch (RunnerShellException e)
            {
                _log.Warning($"job {_jobId}: SSH to VM {_vmName} failed ({e.Failure}: {e.Message}); attempt {attempt} of {options.SshAttempts}, retrying in {delay}");
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay *= 2;
            }
        }

        await MarkProvisionedAsync(ct).ConfigureAwait(false);
        _log.Info("job {0} ({1}): runner {2} started on VM {3}", _jobId, _repo, jit.RunnerName, _vmName);
        return new Started(DateTimeOffset.UtcNow);
    }

    /// <summary>generate-jitconfig until it works or fails permanently (null). 409 → a new name at once; 5xx/limits → backoff.
    /// <c>HalfRegistered</c>: an attempt failed in a way that may still have registered a runner.</summary>
    private async Task<(JitRunner? Runner, bool HalfRegistered)> CreateJitConfigAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(1);
        var halfRegistered = false;
        while (true)
        {
            var name = $"blip-{_jobId}-{Guid.NewGuid().ToString("N")[..8]}";
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
                halfRegistered |= !e.IsRateLimited;
                var wait = e.RetryAfter ?? delay;
                _log.Warning("job {0} ({1}): failed to create JIT runner config: {2}; retrying in {3}",
                    _jobId, _repo, e.Status is { } s && !e.IsRateLimited ? $"HTTP {(int)s}" : e.Message, wait);
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
            var prefix = $"blip-{_jobId}-";
            foreach (var runner in await _deps.GitHub.ListRunnersAsync(_repo, ct).ConfigureAwait(false))
            {
                if (runner.Id == keep || !runner.Name.StartsWith(prefix, StringComparison.Ordinal))
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

    private async Task DeleteRegistrationAsync(long runnerId, CancellationToken ct)
    {
        try
        {
            await _deps.GitHub.DeleteRunnerAsync(_repo, runnerId, ct).ConfigureAwait(false);
        }
        catch (GitHubCallException e)
        {
            _log.Warning("job {0}: could not delete runner registration {1} ({2}); the janitor will", _jobId, runnerId, e.Message);
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
