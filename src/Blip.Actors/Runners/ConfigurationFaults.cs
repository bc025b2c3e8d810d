using Blip.Actors.Config;

namespace Blip.Actors.Runners;

/// <summary>A bootstrap failure that the controller's configuration (or the VM image) can cause on every VM alike.</summary>
public enum ConfigurationFaultCause
{
    /// <summary>The VMs refuse the client key or the user: Secret ssh-gateway-client-key or Blip:SshUser.</summary>
    SshAuthenticationRejected,

    /// <summary>Blip:RunnerDir does not exist on the VMs.</summary>
    RunnerDirMissing,

    /// <summary>run.sh is missing or not executable in Blip:RunnerDir.</summary>
    RunScriptMissing,

    /// <summary>The VM image's runner is too old: GitHub refuses it, or it is below Blip:RunnerMinimumVersion.</summary>
    RunnerOutdated,
}

/// <summary>
/// Which failures may be configuration faults, and what to tell the operator. Pure: unit-tested without actors.
/// Everything not classified here is a fault of that VM alone: unreachable, another or a malformed host key, and run.sh
/// exiting at once (it does so when its JIT config is refused, which says nothing about the configuration).
/// </summary>
public static class BootstrapFaults
{
    /// <summary>The configuration cause a failure may have, or null when it can only be the VM's own fault.</summary>
    public static ConfigurationFaultCause? Classify(RunnerShellFailure failure) => failure switch
    {
        RunnerShellFailure.AuthenticationFailed => ConfigurationFaultCause.SshAuthenticationRejected,
        RunnerShellFailure.RunnerDirMissing => ConfigurationFaultCause.RunnerDirMissing,
        RunnerShellFailure.RunScriptMissing => ConfigurationFaultCause.RunScriptMissing,
        RunnerShellFailure.RunnerOutdated => ConfigurationFaultCause.RunnerOutdated,
        _ => null,
    };

    /// <summary>The one error line: what failed on how many VMs, and which Secret or setting to fix.</summary>
    /// <param name="runnerVersion">The runner version read on the VM (for <see cref="ConfigurationFaultCause.RunnerOutdated"/>).</param>
    public static string Describe(ConfigurationFaultCause cause, int vms, string sshUser, string runnerDir, string? runnerVersion = null) => cause switch
    {
        ConfigurationFaultCause.SshAuthenticationRejected =>
            $"SSH authentication rejected by {vms} VMs (user '{sshUser}'): check Secret {ControllerSecrets.SshKeySecretName} (key {ControllerSecrets.SshKeyKey}) and Blip:SshUser",
        ConfigurationFaultCause.RunnerDirMissing =>
            $"runner dir {runnerDir} missing on {vms} VMs: check Blip:RunnerDir and the VM image (it must install the runner there)",
        ConfigurationFaultCause.RunScriptMissing =>
            $"{runnerDir}/run.sh missing or not executable on {vms} VMs: check Blip:RunnerDir and the VM image",
        ConfigurationFaultCause.RunnerOutdated =>
            $"runner {runnerVersion ?? "(version unknown)"} on {vms} VMs is outdated (GitHub refuses it, or it is below Blip:RunnerMinimumVersion): " +
            $"rebuild the VM image with a current runner (images/github-runner, RUNNER_VERSION; {runnerDir}/bin/Runner.Listener --version)",
        _ => throw new ArgumentOutOfRangeException(nameof(cause), cause, null),
    };

    /// <summary>The metric label of a cause.</summary>
    public static string Label(ConfigurationFaultCause cause) => cause switch
    {
        ConfigurationFaultCause.SshAuthenticationRejected => "ssh_authentication_rejected",
        ConfigurationFaultCause.RunnerDirMissing => "runner_dir_missing",
        ConfigurationFaultCause.RunScriptMissing => "run_sh_missing",
        ConfigurationFaultCause.RunnerOutdated => "runner_outdated",
        _ => cause.ToString(),
    };
}

/// <summary>What a failure means, given what the node has seen: give this VM up, or hold it (a configuration fault).</summary>
/// <param name="FirstReport">This observation turned the cause into a configuration fault: the caller says so, once.</param>
public sealed record FaultVerdict(bool IsConfigurationFault, bool FirstReport, int Vms)
{
    public static readonly FaultVerdict VmFault = new(false, false, 1);
}

/// <summary>
/// Per node: which VMs failed with which configuration-capable cause. When one cause shows on two different VMs it
/// is a configuration fault: VMs are no longer given up for it, and the node is not ready until it clears. It clears
/// when any runner starts on this node (the configuration works again). Observations older than
/// <see cref="Window"/> are forgotten, so two unrelated VM faults a day apart are not taken for one. Every node learns
/// on its own (two VMs on one node are enough); nothing is shared through the cluster, so nothing can go stale there.
/// Thread-safe: every bootstrapper of the node reports to it, readiness and metrics read it, the config watcher wakes it.
/// </summary>
public sealed class ConfigurationFaults(TimeProvider? clock = null)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private const int DistinctVms = 2;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly object _gate = new();
    private readonly Dictionary<ConfigurationFaultCause, Dictionary<string, DateTimeOffset>> _seen = [];
    private readonly Dictionary<ConfigurationFaultCause, string> _active = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raised once per detection, with its cause (for the metric).</summary>
    public event Action<ConfigurationFaultCause>? Detected;

    /// <summary>The active faults and their messages (readiness, metrics).</summary>
    public IReadOnlyDictionary<ConfigurationFaultCause, string> Active
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<ConfigurationFaultCause, string>(_active);
            }
        }
    }

    /// <summary>Completes when the configuration may have been fixed (a Secret changed, a runner started): held starts try
    /// again at once (a bootstrapper pipes it to itself).</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Records a failure of <paramref name="cause"/> on <paramref name="vmName"/>; <paramref name="describe"/> makes the message for a new fault.</summary>
    public FaultVerdict Observe(ConfigurationFaultCause cause, string vmName, Func<int, string> describe)
    {
        var now = _clock.GetUtcNow();
        FaultVerdict verdict;
        lock (_gate)
        {
            if (!_seen.TryGetValue(cause, out var vms))
            {
                _seen[cause] = vms = [];
            }

            foreach (var old in vms.Where(v => now - v.Value > Window).Select(v => v.Key).ToList())
            {
                vms.Remove(old);
            }

            vms[vmName] = now;
            if (_active.ContainsKey(cause))
            {
                return new FaultVerdict(true, false, vms.Count);
            }

            if (vms.Count < DistinctVms)
            {
                return FaultVerdict.VmFault;
            }

            _active[cause] = describe(vms.Count);
            verdict = new FaultVerdict(true, true, vms.Count);
        }

        Detected?.Invoke(cause);
        return verdict;
    }

    /// <summary>A runner started: whatever was wrong works now. Returns the faults that were active (to log their end).</summary>
    public IReadOnlyList<ConfigurationFaultCause> RunnerStarted()
    {
        lock (_gate)
        {
            var cleared = _active.Keys.ToList();
            _active.Clear();
            _seen.Clear();
            if (cleared.Count > 0)
            {
                WakeLocked();
            }

            return cleared;
        }
    }

    /// <summary>A Secret or setting the faults may depend on changed: held retries try again at once.</summary>
    public void ConfigurationChanged()
    {
        lock (_gate)
        {
            WakeLocked();
        }
    }

    private void WakeLocked()
    {
        var old = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }
}
