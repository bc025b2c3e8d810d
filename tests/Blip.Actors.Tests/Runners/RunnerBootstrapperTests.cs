using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Runners;

/// <summary>The bootstrapper's protocol with fake ports: what it tells its parent, what it asks of GitHub and the VMs.</summary>
public sealed class RunnerBootstrapperTests() : TestKit("""
    akka.loglevel = INFO
    akka.log-dead-letters = 1000
    """)
{
    private const string Secret = "jit-secret-7f3e9c51";
    private const string HostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    private static readonly RepoName Repo = new("org", "repo");
    private readonly FakeGitHub _gitHub = new();
    private readonly FakePool _pool = new();
    private readonly ConfigurationFaults _faults = new();

    [Fact]
    public async Task A_runner_started_on_the_vm_registers_and_reports_started_once_the_vm_is_marked()
    {
        var parent = CreateTestProbe();

        Start(parent, Vm("vm-1"), new FakeShell());

        var registered = await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        Assert.StartsWith("blip-7-", registered.RunnerName, StringComparison.Ordinal);
        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Equal(["true"], _pool.Annotated.Select(a => a["blip.io/runner-provisioned"]));
        Assert.Empty(_pool.Events);
    }

    [Fact]
    public async Task A_vm_already_marked_provisioned_is_started_without_a_new_registration()
    {
        var parent = CreateTestProbe();
        var vm = Vm("vm-1") with { Annotations = new Dictionary<string, string> { [VmAnnotations.HostKey] = HostKey, [VmAnnotations.RunnerProvisioned] = "true" } };

        Start(parent, vm, new FakeShell());

        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Equal(0, _gitHub.JitConfigs);
    }

    [Fact]
    public async Task A_vm_gone_from_the_inventory_is_given_up()
    {
        var parent = CreateTestProbe();

        Start(parent, null, new FakeShell(), vmName: "vm-gone");

        Assert.Equal("VM is gone", (await parent.ExpectMsgAsync<RunnerBootstrapper.GaveUpOnVm>()).Reason);
        Assert.Equal(0, _gitHub.JitConfigs);
    }

    [Fact]
    public async Task A_permanent_generate_jitconfig_error_is_a_jit_failure_and_no_ssh()
    {
        var parent = CreateTestProbe();
        var shell = new FakeShell();
        _gitHub.JitError = new GitHubCallException("generate-jitconfig", System.Net.HttpStatusCode.Forbidden);

        Start(parent, Vm("vm-1"), shell);

        await parent.ExpectMsgAsync<RunnerBootstrapper.JitFailed>();
        Assert.Equal(0, shell.Calls);
    }

    [Fact]
    public async Task A_malformed_host_key_gives_the_vm_up_before_any_registration()
    {
        var parent = CreateTestProbe();

        Start(parent, Vm("vm-1", hostKey: "ssh-ed25519 !!not-base64!!"), new FakeShell());

        var gaveUp = await parent.ExpectMsgAsync<RunnerBootstrapper.GaveUpOnVm>();
        Assert.Contains("VM vm-1: blip.io/host-key 'ssh-ed25519 !!not-base64!!' is not an ssh-ed25519 key", gaveUp.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _gitHub.JitConfigs);
    }

    [Fact]
    public async Task A_retry_that_finds_run_sh_locked_takes_the_runner_as_started_and_keeps_the_vm()
    {
        var parent = CreateTestProbe();
        var shell = new FakeShell(
            Broken("connection lost while starting the runner"),
            new RunnerShellException(RunnerShellFailure.AlreadyRunning, "run.sh refused a second start (its lock is held: a runner already runs)"));

        Start(parent, Vm("vm-1"), shell);

        await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Equal(2, shell.Calls);
        Assert.Empty(_gitHub.Deleted);
        Assert.Equal(["true"], _pool.Annotated.Select(a => a["blip.io/runner-provisioned"]));
    }

    [Fact]
    public async Task A_broken_channel_with_the_registration_online_on_github_is_a_started_runner()
    {
        var parent = CreateTestProbe();
        var shell = new FakeShell(Broken("the channel closed before the start command reported its exit status"));
        _gitHub.Status = "online";

        Start(parent, Vm("vm-1"), shell);

        await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Equal(1, shell.Calls);
        Assert.Empty(_gitHub.Deleted);
    }

    [Fact]
    public async Task A_vm_whose_runner_is_busy_is_never_given_up_even_after_the_last_attempt()
    {
        var parent = CreateTestProbe();
        var shell = new FakeShell(new RunnerShellException(RunnerShellFailure.Unreachable, "refused"));
        _gitHub.DeleteOutcome = DeleteRunnerOutcome.Busy; // GitHub refuses: the runner runs a job

        Start(parent, Vm("vm-1"), shell, sshAttempts: 1);

        await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
    }

    [Fact]
    public async Task A_stdin_write_failure_is_a_shell_error_and_the_registration_is_deleted_when_the_vm_is_given_up()
    {
        var parent = CreateTestProbe();
        var shell = new FakeShell(new IOException("broken pipe"));

        Start(parent, Vm("vm-1"), shell, sshAttempts: 2);

        var registered = await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        var gaveUp = await parent.ExpectMsgAsync<RunnerBootstrapper.GaveUpOnVm>(TimeSpan.FromSeconds(10));
        Assert.StartsWith("Unreachable", gaveUp.Reason, StringComparison.Ordinal);
        Assert.Equal(2, shell.Calls);
        Assert.Equal([registered.RunnerId], _gitHub.Deleted);
    }

    [Fact]
    public async Task The_same_failure_on_a_second_vm_holds_it_reports_one_fault_and_a_fixed_key_starts_the_runner()
    {
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        var rejected = new RunnerShellException(RunnerShellFailure.AuthenticationFailed, "client key refused");

        Start(first, Vm("vm-1"), new FakeShell(rejected), sshAttempts: 1);
        await first.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await first.ExpectMsgAsync<RunnerBootstrapper.GaveUpOnVm>(); // one VM: its own fault, as far as anyone knows

        var shell = new FakeShell(rejected, rejected) { ThenSucceed = true };
        Start(second, Vm("vm-2"), shell, sshAttempts: 1);
        await second.ExpectMsgAsync<RunnerBootstrapper.Registered>();

        // Held, not given up: the fault is named once, on the VM, and the retries go on.
        await AwaitAssertAsync(() => Assert.Equal(2, shell.Calls), TimeSpan.FromSeconds(10));
        Assert.Equal(
            "SSH authentication rejected by 2 VMs (user 'runner'): check Secret ssh-gateway-client-key (key client_key) and Blip:SshUser",
            Assert.Single(_faults.Active.Values));
        var recorded = Assert.Single(_pool.Events);
        Assert.Equal(("vm-2", "ConfigurationFault", true), (recorded.Vm, recorded.Event.Reason, recorded.Event.Warning));

        _faults.ConfigurationChanged(); // the Secret was rotated: the held retry goes at once
        await second.ExpectMsgAsync<RunnerBootstrapper.Started>(TimeSpan.FromSeconds(10));
        Assert.Empty(_faults.Active);
        Assert.Single(_pool.Events);
    }

    [Fact]
    public async Task An_outdated_runner_gives_its_first_vm_up_at_once_holds_the_second_and_clears_when_a_newer_runner_starts()
    {
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        var refused = new RunnerShellException(RunnerShellFailure.RunnerOutdated, "GitHub refused runner 2.300.0 as outdated") { RunnerVersion = "2.300.0" };

        var firstShell = new FakeShell(refused);
        Start(first, Vm("vm-1"), firstShell);
        await first.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await first.ExpectMsgAsync<RunnerBootstrapper.GaveUpOnVm>();
        Assert.Equal(1, firstShell.Calls); // the same runner on the same VM is refused again: no retries there

        var heldShell = new FakeShell(refused);
        Start(second, Vm("vm-2"), heldShell);
        await second.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await AwaitAssertAsync(() => Assert.Equal(2, heldShell.Calls), TimeSpan.FromSeconds(10));
        var message = Assert.Single(_faults.Active).Value;
        Assert.Contains("runner 2.300.0 on 2 VMs is outdated", message, StringComparison.Ordinal);
        Assert.Contains("rebuild the VM image", message, StringComparison.Ordinal);
        Assert.Equal(("vm-2", "ConfigurationFault", true), (_pool.Events.Single().Vm, _pool.Events.Single().Event.Reason, _pool.Events.Single().Event.Warning));
        await second.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // held: neither started nor given up

        // The image was rebuilt: a newer runner starts on a new VM, and the fault is over.
        var third = CreateTestProbe();
        Start(third, Vm("vm-3"), new FakeShell());
        await third.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await third.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Empty(_faults.Active);
    }

    [Fact]
    public async Task A_5xx_from_generate_jitconfig_is_retried_under_a_new_name_and_this_jobs_half_registration_is_swept()
    {
        var parent = CreateTestProbe();
        _gitHub.JitFailures.Enqueue(new GitHubCallException("generate-jitconfig", System.Net.HttpStatusCode.ServiceUnavailable));
        _gitHub.Runners = [new RunnerInfo(55, "blip-7-5eeded00", "offline", false, []), new RunnerInfo(56, "blip-8-0f0e4e00", "offline", false, [])];

        Start(parent, Vm("vm-1"), new FakeShell());

        var registered = await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>(TimeSpan.FromSeconds(10));
        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Equal(2, _gitHub.Names.Count);
        Assert.Equal(2, _gitHub.Names.Distinct().Count());
        Assert.Equal(registered.RunnerName, _gitHub.Names.Last());
        Assert.Equal([55L], _gitHub.Deleted); // the 5xx may have registered blip-7-…; job 8's runner is not ours to touch
    }

    [Fact]
    public async Task After_a_restart_a_live_registration_of_the_job_is_adopted_without_a_new_one()
    {
        var parent = CreateTestProbe();
        _gitHub.Runners = [new RunnerInfo(60, "blip-7-0ff11e00", "offline", false, []), new RunnerInfo(61, "blip-7-11fe0000", "online", false, [])];

        Start(parent, Vm("vm-1"), new FakeShell(), sweepStale: true);

        Assert.Equal(new RunnerBootstrapper.Registered(61, "blip-7-11fe0000"), await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>());
        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Equal(0, _gitHub.JitConfigs);
        Assert.Equal([60L], _gitHub.Deleted);
    }

    [Fact]
    public async Task A_registration_from_before_a_crash_that_github_will_not_delete_is_a_started_runner()
    {
        var parent = CreateTestProbe();
        _gitHub.DeleteOutcome = DeleteRunnerOutcome.Busy;

        Start(parent, Vm("vm-1"), new FakeShell(), previousRunnerId: 42);

        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Equal([42L], _gitHub.Deleted);
        Assert.Equal(0, _gitHub.JitConfigs);
    }

    [Fact]
    public void The_jit_config_prints_redacted_in_everything_that_carries_it()
    {
        var runner = new JitRunner(101, "blip-7-a1b2c3d4", new JitConfig(Secret));

        Assert.All(
            [runner.Config.ToString(), runner.ToString(), new RunnerBootstrapper.JitGenerated(runner).ToString()],
            text => Assert.DoesNotContain(Secret, text, StringComparison.Ordinal));
        Assert.Contains("blip-7-a1b2c3d4", new RunnerBootstrapper.JitGenerated(runner).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_jit_config_arriving_after_the_stop_is_a_suppressed_dead_letter_and_no_log_line_shows_it()
    {
        var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _gitHub.JitReply = reply.Task;
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe(deadLetters, typeof(AllDeadLetters));
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs, typeof(LogEvent));
        var parent = CreateTestProbe();
        var bootstrapper = Start(parent, Vm("vm-1"), new FakeShell());
        await AwaitAssertAsync(() => Assert.Equal(1, _gitHub.JitConfigs)); // generate-jitconfig is on its way

        Watch(bootstrapper);
        Sys.Stop(bootstrapper); // the job actor released the VM meanwhile
        await ExpectTerminatedAsync(bootstrapper);
        reply.SetResult(); // GitHub answers after all, with the secret

        var late = await deadLetters.FishForMessageAsync<AllDeadLetters>(d => d.Message is RunnerBootstrapper.JitGenerated);
        Assert.IsAssignableFrom<IDeadLetterSuppression>(late.Message); // the dead-letter listener logs no line for it
        Assert.DoesNotContain(Secret, late.ToString(), StringComparison.Ordinal);

        // An ordinary dead letter sent now is logged; every line before it (the late reply's would be one) is clean.
        bootstrapper.Tell(new LateCheck());
        var lines = new List<string>();
        await logs.FishForMessageAsync<LogEvent>(e =>
        {
            lines.Add(e.ToString()!);
            return lines[^1].Contains(nameof(LateCheck), StringComparison.Ordinal);
        });
        Assert.All(lines, line => Assert.DoesNotContain(Secret, line, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains(nameof(RunnerBootstrapper.JitGenerated), StringComparison.Ordinal));
        await parent.ExpectNoMsgAsync(TimeSpan.Zero);
    }

    [Fact]
    public async Task A_registration_whose_generate_call_lands_after_the_stop_is_deleted_once_it_lands()
    {
        // The job actor gave the VM up (or finished) while generate-jitconfig was on its way: GitHub registers the runner
        // anyway, and nothing will ever start it.
        var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _gitHub.JitReply = reply.Task;
        var parent = CreateTestProbe();
        var bootstrapper = Start(parent, Vm("vm-1"), new FakeShell());
        await AwaitAssertAsync(() => Assert.Equal(1, _gitHub.JitConfigs));

        Watch(bootstrapper);
        Sys.Stop(bootstrapper);
        await ExpectTerminatedAsync(bootstrapper);
        Assert.Empty(_gitHub.Deleted);
        reply.SetResult();

        await AwaitAssertAsync(() => Assert.Equal([101L], _gitHub.Deleted), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_registration_stopped_before_its_runner_ran_is_deleted_and_one_whose_runner_runs_is_kept()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var parent = CreateTestProbe();
        var bootstrapper = Start(parent, Vm("vm-1"), new FakeShell { Hold = held.Task });
        var registered = await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>();

        Watch(bootstrapper);
        Sys.Stop(bootstrapper); // mid SSH start: the VM is being given up
        await ExpectTerminatedAsync(bootstrapper);
        await AwaitAssertAsync(() => Assert.Equal([registered.RunnerId], _gitHub.Deleted), TimeSpan.FromSeconds(10));

        var second = CreateTestProbe();
        var started = Start(second, Vm("vm-2"), new FakeShell());
        await second.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await second.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Watch(started);
        await ExpectTerminatedAsync(started);
        Assert.Equal([registered.RunnerId], _gitHub.Deleted); // stopped after its runner ran: its registration is the runner's
    }

    [Fact]
    public async Task A_registration_from_before_a_restart_that_github_shows_online_is_adopted_not_deleted()
    {
        // Deleting it would stop a working runner, whose exit powers the VM off under the next registration.
        var parent = CreateTestProbe();
        _gitHub.Status = "online";

        Start(parent, Vm("vm-1"), new FakeShell(), previousRunnerId: 42);

        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Empty(_gitHub.Deleted);
        Assert.Equal(0, _gitHub.JitConfigs);
    }

    private IActorRef Start(TestProbe parent, VmView? vm, FakeShell shell, int sshAttempts = 4, string? vmName = null, long? previousRunnerId = null, bool sweepStale = false)
    {
        var inventory = CreateTestProbe();
        inventory.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is VmInventoryProtocol.GetVm)
            {
                sender.Tell(new VmInventoryProtocol.VmOfJob(vm));
            }

            return AutoPilot.KeepRunning;
        }));
        var deps = new RunnerDependencies(_gitHub, shell, _pool, inventory, _faults, new RunnerOptions { SshAttempts = sshAttempts });
        return parent.ChildActorOf(RunnerBootstrapper.Props(deps, 7, Repo, ["self-hosted", "blip"], vmName ?? vm!.Name, vmUid: null, previousRunnerId, sweepStale));
    }

    private sealed record LateCheck;

    private static VmView Vm(string name, string hostKey = HostKey) =>
        new(name, "1", new Dictionary<string, string> { [VmAnnotations.HostKey] = hostKey }, true, true, "127.0.1.9", "Running", new Blip.Actors.Tests.ActorFakes.FakeVmSource());

    private static RunnerShellException Broken(string message) =>
        new(RunnerShellFailure.Unreachable, message, mayHaveStarted: true);

    /// <summary>Throws its failures in order, then succeeds (or repeats the last failure unless <see cref="ThenSucceed"/>).</summary>
    private sealed class FakeShell(params Exception[] failures) : IRunnerShell
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public bool ThenSucceed { get; init; }

        /// <summary>When set, a start that succeeds waits for it (an SSH start in flight).</summary>
        public Task? Hold { get; init; }

        public async Task<RunnerStart> StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct)
        {
            var call = Interlocked.Increment(ref _calls);
            if (Hold is { } hold && failures.Length == 0)
            {
                await hold;
                return RunnerStart.UnknownVersion;
            }

            if (call <= failures.Length)
            {
                throw failures[call - 1];
            }

            if (ThenSucceed || failures.Length == 0)
            {
                return RunnerStart.UnknownVersion;
            }

            throw failures[^1];
        }
    }

    private sealed class FakeGitHub : IGitHubActions
    {
        private long _nextId = 100;
        private int _jitConfigs;

        public int JitConfigs => Volatile.Read(ref _jitConfigs);

        public ConcurrentQueue<long> Deleted { get; } = new();

        public string Status { get; set; } = "offline";

        public DeleteRunnerOutcome DeleteOutcome { get; set; } = DeleteRunnerOutcome.Deleted;

        public GitHubRateLimit? RateLimit => null;

        public GitHubCallException? JitError { get; set; }

        /// <summary>When set, generate-jitconfig answers once it completes, whatever the caller's token says (a reply in flight).</summary>
        public Task? JitReply { get; set; }

        /// <summary>Thrown by generate-jitconfig in order, before it succeeds.</summary>
        public ConcurrentQueue<GitHubCallException> JitFailures { get; } = new();

        /// <summary>The runner names generate-jitconfig was asked for, in order.</summary>
        public ConcurrentQueue<string> Names { get; } = new();

        public IReadOnlyList<RunnerInfo> Runners { get; set; } = [];

        public async Task<JitRunner> GenerateJitConfigAsync(RepoName repo, string runnerName, IReadOnlyList<string> labels, CancellationToken ct)
        {
            Interlocked.Increment(ref _jitConfigs);
            Names.Enqueue(runnerName);
            if (JitError is { } error)
            {
                throw error;
            }

            if (JitFailures.TryDequeue(out var failure))
            {
                throw failure;
            }

            if (JitReply is { } reply)
            {
                await reply;
            }

            return new JitRunner(Interlocked.Increment(ref _nextId), runnerName, new JitConfig(Secret));
        }

        public Task<RunnerInfo?> GetRunnerAsync(RepoName repo, long runnerId, CancellationToken ct) =>
            Task.FromResult<RunnerInfo?>(new RunnerInfo(runnerId, "blip-7-x", Status, false, []));

        public Task<DeleteRunnerOutcome> DeleteRunnerAsync(RepoName repo, long runnerId, CancellationToken ct)
        {
            Deleted.Enqueue(runnerId);
            return Task.FromResult(DeleteOutcome);
        }

        public Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct) => Task.FromResult(Runners);

        public Task<IReadOnlyList<RunnerRelease>> ListRunnerReleasesAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<RunnerRelease>>([]);

        public Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct) => Task.FromResult<IReadOnlyList<QueuedJob>>([]);

        public TimeSpan Pace(TimeSpan interval) => interval;
    }

    private sealed class FakePool : IVmPool
    {
        public ConcurrentQueue<IReadOnlyDictionary<string, string?>> Annotated { get; } = new();

        public ConcurrentQueue<(string Vm, VmEvent Event)> Events { get; } = new();

        public Task<bool> AnnotateAsync(string vmName, string? vmUid, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct)
        {
            Annotated.Enqueue(annotations);
            return Task.FromResult(true);
        }

        public Task RecordEventAsync(string vmName, string? vmUid, VmEvent vmEvent, CancellationToken ct)
        {
            Events.Enqueue((vmName, vmEvent));
            return Task.CompletedTask;
        }

        public Task<ClaimOutcome> TryClaimAsync(VmView vm, IReadOnlyDictionary<string, string> annotations, CancellationToken ct) => throw new NotSupportedException();

        public Task ReleaseAsync(string vmName, string? vmUid, string sessionId, CancellationToken ct) => throw new NotSupportedException();

        public Task RecordPoolEventAsync(VmEvent poolEvent, CancellationToken ct) => throw new NotSupportedException();

        public IAsyncEnumerable<VmPoolChange> WatchAsync(CancellationToken ct) => throw new NotSupportedException();
    }
}
