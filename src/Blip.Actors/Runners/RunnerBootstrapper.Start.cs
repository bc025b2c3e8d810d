using Akka.Actor;
using Akka.Event;
using Blip.Actors.Vms;

namespace Blip.Actors.Runners;

/// <summary>Steps 4–5 of the bootstrapper: start the runner over SSH (retries, holds while a configuration fault lasts,
/// the registration's status on GitHub when a start may have happened), then mark the VM provisioned.</summary>
public sealed partial class RunnerBootstrapper
{
    /// <summary>The registration exists: the parent learns it (to journal it) before the first SSH attempt.</summary>
    private void StartRunner()
    {
        Context.Parent.Tell(new Registered(_runner!.RunnerId, _runner.RunnerName));
        Become(Starting);
        Attempt(1);
    }

    private void Attempt(int attempt)
    {
        _attempt = attempt;
        _held = false;
        Run(StartOnVmAsync(new RunnerTarget(_vmName, _vm!.Address!, _vm.HostKey!), _runner!.Config, _stop.Token));
    }

    private void Starting()
    {
        Receive<ShellStarted>(m =>
        {
            _runnerVersion = m.Runner.Version;
            if (RunnerVersion.Parse(_runnerVersion) is { } version)
            {
                Context.System.EventStream.Publish(new RunnerReleaseEvents.RunnerVersionStarted(version.ToString()));
            }

            RunnerRuns();
        });
        Receive<ShellFailed>(m => OnShellFailed(m.Failure));
        Receive<RetryStart>(m =>
        {
            if (m.Attempt == _attempt + 1)
            {
                Attempt(m.Attempt);
            }
        });
        Receive<ConfigurationMayHaveChanged>(_ =>
        {
            _watchedChange = null;
            if (_held)
            {
                // A held start wakes on its timer or on this, whichever comes first.
                Timers.Cancel(StartRetryTimer);
                Attempt(_attempt + 1);
            }
        });
        Receive<RegistrationChecked>(OnRegistrationChecked);
        Receive<RegistrationDeleted>(m =>
        {
            if (m.Outcome == DeleteRunnerOutcome.Busy)
            {
                _log.Info("job {0}: runner {1} is busy with a job (GitHub refused to delete it): it started; keeping VM {2}", _jobId, _runner!.RunnerName, _vmName);
                RunnerRuns();
                return;
            }

            if (m.Error is not null)
            {
                _log.Warning("job {0}: could not delete runner registration {1} ({2}); tried again after the stop", _jobId, _runner!.RunnerId, m.Error);
            }
            else
            {
                _unstarted.Remove(_runner!.RunnerName);
            }

            Finish(new GaveUpOnVm($"{m.Failure.Failure}: {m.Failure.Message}"));
        });
        Always();
    }

    /// <summary>A VM whose runner may run is never given up on a guess: run.sh's lock and the registration's status on
    /// GitHub decide (<see cref="BootstrapDecision"/>).</summary>
    private void OnShellFailed(RunnerShellException failure)
    {
        var options = _deps.Options;
        var cause = BootstrapFaults.Classify(failure.Failure);
        var verdict = cause is { } c
            ? _deps.Faults.Observe(c, _vmName, vms => BootstrapFaults.Describe(c, vms, options.SshUser, options.RunnerDir, failure.RunnerVersion))
            : FaultVerdict.VmFault;
        switch (BootstrapDecision.AfterFailure(failure.Failure, failure.MayHaveStarted, _attempt, options.SshAttempts, verdict))
        {
            case BootstrapStep.RunnerRuns:
                _log.Info("job {0}: {1}; an earlier attempt started the runner", _jobId, failure.Message);
                RunnerRuns();
                break;
            case BootstrapStep.HoldForConfiguration:
                if (verdict.FirstReport)
                {
                    ReportConfigurationFault(cause!.Value);
                }

                var hold = _holdBackoff.Next();
                _log.Debug("job {0}: VM {1} held while the configuration fault lasts ({2}); retrying in {3}", _jobId, _vmName, failure.Message, hold);
                _held = true;
                Timers.StartSingleTimer(StartRetryTimer, new RetryStart(_attempt + 1), hold);
                WatchForConfigurationChange();
                break;
            case BootstrapStep.CheckRegistrationThenRetry:
                Run(CheckRegistrationAsync(_runner!.RunnerId, failure, giveUpUnlessRuns: false, _stop.Token));
                break;
            case BootstrapStep.Retry:
                RetryAfterBackoff(failure);
                break;
            default:
                if (failure.Failure == RunnerShellFailure.HostKeyMismatch)
                {
                    GiveUp(failure);
                }
                else
                {
                    Run(CheckRegistrationAsync(_runner!.RunnerId, failure, giveUpUnlessRuns: true, _stop.Token));
                }

                break;
        }
    }

    /// <summary>One wake-up per change of the configuration, however many holds it spans.</summary>
    private void WatchForConfigurationChange()
    {
        var changed = _deps.Faults.Changed;
        if (!ReferenceEquals(changed, _watchedChange))
        {
            _watchedChange = changed;
            changed.PipeTo(Self, success: () => ConfigurationMayHaveChanged.Instance);
        }
    }

    private void OnRegistrationChecked(RegistrationChecked m)
    {
        if (m.Error is not null)
        {
            _log.Warning("job {0}: could not read runner registration {1} ({2})", _jobId, _runner!.RunnerId, m.Error);
        }

        if (m.Runs)
        {
            _log.Info("job {0}: {1}, but runner {2} is online on GitHub: it started{3}", _jobId, m.Failure.Message, _runner!.RunnerName, m.GiveUpUnlessRuns ? $"; keeping VM {_vmName}" : "");
            RunnerRuns();
        }
        else if (m.GiveUpUnlessRuns)
        {
            GiveUp(m.Failure);
        }
        else
        {
            RetryAfterBackoff(m.Failure);
        }
    }

    private void RetryAfterBackoff(RunnerShellException failure)
    {
        var delay = _startBackoff.Next();
        _log.Warning($"job {_jobId}: SSH to VM {_vmName} failed ({failure.Failure}: {failure.Message}); attempt {_attempt} of {_deps.Options.SshAttempts}, retrying in {delay}");
        Timers.StartSingleTimer(StartRetryTimer, new RetryStart(_attempt + 1), delay);
    }

    private void GiveUp(RunnerShellException failure)
    {
        _log.Warning("job {0}: SSH to VM {1} failed ({2}: {3}); giving this VM up", _jobId, _vmName, failure.Failure, failure.Message);
        Run(DeleteRegistrationAsync(_runner!.RunnerId, failure, _stop.Token));
    }

    /// <summary>One error line, one Warning event on the VM, one count: the rest of the fault is quiet.</summary>
    private void ReportConfigurationFault(ConfigurationFaultCause cause)
    {
        var message = _deps.Faults.Active.GetValueOrDefault(cause) ?? cause.ToString();
        _log.Error("configuration fault: {0}; VMs are no longer given up for it, retrying with backoff until it is fixed", message);
        _ = _deps.Pool.RecordEventAsync(_vmName, _vmUid, new VmEvent("ConfigurationFault", message, Warning: true), CancellationToken.None);
    }

    /// <summary>The runner runs now, whatever happens to the annotation: failing to write it must not give the VM up
    /// (that would kill a working runner). It only speeds up recovery after a restart.</summary>
    private void RunnerRuns()
    {
        _runs = true; // from here the registration is the running runner's, never deleted by this actor
        foreach (var cleared in _deps.Faults.RunnerStarted())
        {
            _log.Info("configuration fault cleared ({0}): a runner started on VM {1}", BootstrapFaults.Label(cleared), _vmName);
        }

        Become(Marking);
        Mark(1);
    }

    private void Mark(int attempt)
    {
        _markAttempt = attempt;
        Run(MarkProvisionedAsync(_stop.Token));
    }

    private void Marking()
    {
        Receive<Marked>(m =>
        {
            if (m.Error is not null && _markAttempt < MarkAttempts)
            {
                Timers.StartSingleTimer(MarkRetryTimer, RetryMark.Instance, TimeSpan.FromMilliseconds(200 * _markAttempt));
                return;
            }

            if (m.Error is not null)
            {
                _log.Warning("job {0}: could not mark VM {1} provisioned ({2}); the runner runs regardless", _jobId, _vmName, m.Error);
            }

            _log.Info("job {0} ({1}): runner {2} (version {3}) started on VM {4}", _jobId, _repo, _runner?.RunnerName, _runnerVersion ?? "unknown", _vmName);
            Finish(new Started(DateTimeOffset.UtcNow));
        });
        Receive<RetryMark>(_ => Mark(_markAttempt + 1));
        Receive<ConfigurationMayHaveChanged>(_ => { }); // the runner runs: nothing is held any more
        Always();
    }
}
