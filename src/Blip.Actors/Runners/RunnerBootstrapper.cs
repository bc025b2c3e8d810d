using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Event;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Runners;

/// <summary>
/// Child of a job actor: starts the JIT runner on the claimed VM. Every step is a message: the actor starts the step's
/// async work, pipes its result to itself and decides in a receive (pure decisions in <see cref="BootstrapDecision"/> and
/// <see cref="BootstrapFaults"/>); retries wait on timers. The steps, in order:
/// <list type="number">
/// <item>Look the VM up in the node's inventory (however long its watch takes to sync: a slow machine is not a missing VM):
/// gone (or its name taken by a new VM) → <see cref="GaveUpOnVm"/>; already marked provisioned → <see cref="Started"/>. A
/// registration from before a crash that GitHub shows online or busy runs: <see cref="Started"/>; else it is deleted.</item>
/// <item>Check the host key (a malformed one costs no registration); after a restart or a lost VM, sweep this job's stale
/// registrations (one online or busy is adopted: <see cref="Registered"/>, then <see cref="Started"/>).</item>
/// <item>generate-jitconfig with a <see cref="RunnerName"/> new per attempt and the job's labels: 409 → a new name at once;
/// 5xx, rate limits, "spammed" → retry with backoff; permanent → <see cref="JitFailed"/>. Then <see cref="Registered"/>.</item>
/// <item>SSH with the host key pinned, the config on stdin only, until it runs or the VM is given up. A failure seen on
/// another VM too is a configuration fault (<see cref="ConfigurationFaults"/>): the VM is held and the start retried
/// until the configuration changes. A VM whose runner may have started is never given up on a guess.</item>
/// <item>Mark the VM <c>blip.io/runner-provisioned=true</c> (a few tries; the runner runs regardless), then <see cref="Started"/>.</item>
/// </list>
/// Registrations: the bootstrapper owns every registration it makes until its runner runs. Stopped before that (the job
/// actor gave the VM up, the job finished, the node shuts down), it deletes them after the stop, once a generate-jitconfig
/// call still in flight has landed (that call is never cancelled, so its answer says what it registered). What a killed
/// node left is swept by the next bootstrapper of the job (<c>sweepStale</c>) or, when the job finishes before its runner
/// was known to start, by the job actor; the janitor's <c>OrphanRunnerSweeper</c> is the last resort.
/// The JIT config lives only in this actor's state and in the one private message that brings it back from GitHub
/// (<see cref="JitGenerated"/>): both print it redacted, that message is never persisted, and a copy arriving after the
/// stop is a suppressed dead letter, never a log line.
/// </summary>
public sealed partial class RunnerBootstrapper : ReceiveActor, IWithTimers
{
    private const string VmLookupTimer = "vm-lookup";
    private const string JitRetryTimer = "jit-retry";
    private const string StartRetryTimer = "start-retry";
    private const string MarkRetryTimer = "mark-retry";
    private const int MarkAttempts = 5;

    /// <summary>When a lookup still unanswered is worth a line: the inventory answers once its watch has synced.</summary>
    private static readonly TimeSpan VmLookupSlow = TimeSpan.FromSeconds(10);

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
    private readonly Backoff _jitBackoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    private readonly Backoff _startBackoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    private readonly Backoff _holdBackoff = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
    private VmView? _vm;
    private JitRunner? _runner;
    private Task<IStepResult>? _generating;
    private readonly HashSet<string> _unstarted = [];
    private bool _runs;
    private bool _halfRegistered;
    private int _attempt;
    private bool _held;
    private Task? _watchedChange;
    private int _markAttempt;
    private string? _runnerVersion;

    public RunnerBootstrapper(RunnerDependencies deps, long jobId, RepoName repo, ImmutableArray<string> labels, string vmName, string? vmUid, long? previousRunnerId, bool sweepStale)
    {
        _deps = deps;
        _jobId = jobId;
        _repo = repo;
        _labels = labels;
        _vmName = vmName;
        _vmUid = vmUid;
        _previousRunnerId = previousRunnerId;
        _sweepStale = sweepStale;
        Preparing();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="sweepStale">After a restart or a lost VM: first delete this job's registrations that never came online
    /// (a crash between generate-jitconfig and the journal, or a half-registration answered with 5xx).</param>
    /// <param name="vmUid">The claimed VM's uid (null for a claim journaled before uids were): a VM of the same name and
    /// another uid is not ours.</param>
    public static Props Props(RunnerDependencies deps, long jobId, RepoName repo, ImmutableArray<string> labels, string vmName, string? vmUid, long? previousRunnerId, bool sweepStale) =>
        Akka.Actor.Props.Create(() => new RunnerBootstrapper(deps, jobId, repo, labels, vmName, vmUid, previousRunnerId, sweepStale));

    protected override void PreStart()
    {
        _deps.Inventory.Tell(new VmInventoryProtocol.GetVm(_vmName), Self);
        Timers.StartSingleTimer(VmLookupTimer, VmLookupSlowed.Instance, VmLookupSlow);
    }

    /// <summary>The job actor stopped us (gave the VM up, finished, the node stops): the work in flight is dropped, and the
    /// registrations made for a runner that never ran are deleted (see the class summary).</summary>
    protected override void PostStop()
    {
        _stop.Cancel();
        if (_runs || _unstarted.Count == 0)
        {
            return;
        }

        var (log, jobId, names) = (_log, _jobId, string.Join(", ", _unstarted));
        DeleteUnstartedAsync(_generating, _runner, _unstarted.ToHashSet()).ContinueWith(
            t => log.Warning("job {0}: could not delete runner registration {1} made before the stop ({2}); the orphan runner sweeper will", jobId, names, t.Exception?.GetBaseException().Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Steps 1–2: the VM, an earlier registration, the host key, stale registrations.</summary>
    private void Preparing()
    {
        Receive<VmInventoryProtocol.VmOfJob>(m =>
        {
            Timers.Cancel(VmLookupTimer);
            OnVm(m.Vm);
        });
        Receive<VmLookupSlowed>(_ => _log.Warning(
            "job {0}: the VM inventory has not answered about VM {1} for {2:F0} s (its watch has not synced yet); still waiting", _jobId, _vmName, VmLookupSlow.TotalSeconds));
        Receive<PreviousSettled>(m =>
        {
            if (m.Runs)
            {
                _log.Info("job {0}: runner {1} registered before the restart is online or busy on GitHub: it runs; keeping VM {2}", _jobId, _previousRunnerId, _vmName);
                Finish(new Started(DateTimeOffset.UtcNow));
                return;
            }

            CheckVm();
        });
        Receive<Swept>(m =>
        {
            LogSweep(m);
            if (m.Live is { } live)
            {
                // A runner of ours from before the stop is online or busy: it was started; adopt it rather than start a second one.
                Context.Parent.Tell(new Registered(live.Id, live.Name));
                Finish(new Started(DateTimeOffset.UtcNow));
                return;
            }

            Register();
        });
        Always();
    }

    private void OnVm(VmView? vm)
    {
        if (vm is null || (_vmUid is not null && vm.Uid != _vmUid) || vm.Terminating)
        {
            Finish(new GaveUpOnVm(vm is null || vm.Terminating ? "VM is gone" : "VM is gone (its name belongs to a new VM)"));
            return;
        }

        if (vm.Annotations.GetValueOrDefault(VmAnnotations.RunnerProvisioned) == "true")
        {
            Finish(new Started(DateTimeOffset.UtcNow)); // Started before a crash; the annotation is the record.
            return;
        }

        _vm = vm;
        if (_previousRunnerId is { } previous)
        {
            // A registration from before a crash whose start was not recorded: online or busy, it runs (deleting it would
            // stop a working runner and power its VM off); else it is deleted before a new one is made.
            Run(SettlePreviousAsync(previous, _stop.Token));
            return;
        }

        CheckVm();
    }

    private void CheckVm()
    {
        if (_vm!.Address is null || _vm.HostKey is null)
        {
            Finish(new GaveUpOnVm("VM has no address or host key"));
            return;
        }

        // Checked before generate-jitconfig: a VM that can never be reached safely costs no registration.
        if (PinnedHostKey.Parse(_vm.HostKey) is null)
        {
            var malformed = PinnedHostKey.Malformed(_vmName, _vm.HostKey);
            _log.Warning("job {0}: {1}; giving this VM up", _jobId, malformed);
            Finish(new GaveUpOnVm(malformed));
            return;
        }

        if (_sweepStale)
        {
            Run(SweepAsync(keep: null, _stop.Token));
            return;
        }

        Register();
    }

    /// <summary>Step 3: generate-jitconfig until it works or fails permanently.</summary>
    private void Register()
    {
        Become(Registering);
        RequestJitConfig();
    }

    private void Registering()
    {
        Receive<JitGenerated>(m =>
        {
            _generating = null;
            _runner = m.Runner;
            if (_halfRegistered)
            {
                Run(SweepAsync(keep: m.Runner.RunnerId, _stop.Token)); // an earlier attempt may have registered a runner too
                return;
            }

            StartRunner();
        });
        Receive<JitRefused>(m =>
        {
            _generating = null;
            OnJitRefused(m.RunnerName, m.Error);
        });
        Receive<RetryJitConfig>(_ => RequestJitConfig());
        Receive<Swept>(m =>
        {
            LogSweep(m);
            if (m.Error is null)
            {
                _unstarted.RemoveWhere(name => name != _runner!.RunnerName); // the half-registrations are gone
            }

            StartRunner();
        });
        Always();
    }

    /// <summary>Not cancelled by the stop: its answer tells <see cref="PostStop"/> which registration to delete.</summary>
    private void RequestJitConfig()
    {
        var name = RunnerName.New(new JobId(_jobId)).ToString();
        _unstarted.Add(name);
        _generating = GenerateJitConfigAsync(name, CancellationToken.None);
        Run(_generating);
    }

    /// <summary>409 → a new name at once; permanent → <see cref="JitFailed"/>; 5xx, limits and a 422 "endpoint has been
    /// spammed" → backoff (1 s doubling to at most 60 s, until the job actor stops us).</summary>
    private void OnJitRefused(string name, GitHubCallException e)
    {
        if (e.Status == HttpStatusCode.Conflict || e.IsPermanent)
        {
            _unstarted.Remove(name); // refused: nothing was registered under this name
        }

        if (e.Status == HttpStatusCode.Conflict)
        {
            _log.Warning("job {0}: failed to create JIT runner config: HTTP 409 (runner name {1} taken); retrying with a new name", _jobId, name);
            RequestJitConfig();
            return;
        }

        if (e.IsPermanent)
        {
            var status = (int)e.Status!.Value;
            _log.Error($"job {_jobId} ({_repo}): failed to create JIT runner config: HTTP {status}; the PAT (or the GitHub App installation) lacks permission or is not authorized for the repo (needs Administration read & write)");
            Finish(new JitFailed("permanent error"));
            return;
        }

        // Refused before anything was done (rate limit, a spammed endpoint): no runner can have been registered.
        _halfRegistered |= !e.IsRateLimited && !e.IsSpammed;
        if (e.IsRateLimited || e.IsSpammed)
        {
            _unstarted.Remove(name);
        }

        var backoff = _jitBackoff.Next();
        var wait = e.RetryAfter ?? backoff;
        _log.Warning("job {0} ({1}): failed to create JIT runner config: {2}; retrying in {3}",
            _jobId, _repo, e.IsSpammed ? "HTTP 422 (GitHub says the endpoint has been spammed)" : e.Status is { } s && !e.IsRateLimited ? $"HTTP {(int)s}" : e.Message, wait);
        Timers.StartSingleTimer(JitRetryTimer, RetryJitConfig.Instance, wait);
    }

    /// <summary>What every step handles alike: work that failed in a way no step expects gives the VM up.</summary>
    private void Always()
    {
        Receive<StepFailed>(m => Finish(new GaveUpOnVm($"unexpected error: {m.Error.GetType().Name}: {m.Error.Message}")));
        ReceiveAny(Unhandled);
    }

    private void LogSweep(Swept m)
    {
        foreach (var stale in m.Deleting)
        {
            _log.Info("job {0}: deleting stale runner registration {1} ({2})", _jobId, stale.Name, stale.Status);
        }

        if (m.Error is not null)
        {
            _log.Warning("job {0}: could not sweep stale runner registrations ({1})", _jobId, m.Error);
        }
    }

    private void Finish(object report)
    {
        Context.Parent.Tell(report);
        Context.Stop(Self);
    }

    /// <summary>Runs one step's async work; its result (or an unexpected failure) comes back as a message.</summary>
    private void Run<T>(Task<T> work) where T : IStepResult =>
        work.PipeTo(Self, success: r => r, failure: e => new StepFailed(e));
}
