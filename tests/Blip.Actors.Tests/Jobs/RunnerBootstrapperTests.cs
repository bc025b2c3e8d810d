using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Blip.Actors.Config;
using Blip.Actors.GitHub;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Vms;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary>The bootstrapper's protocol with fake ports: what it tells its parent, what it asks of GitHub and the VMs.</summary>
public sealed class RunnerBootstrapperTests : TestKit
{
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

    private void Start(TestProbe parent, VmView? vm, FakeShell shell, int sshAttempts = 4, string? vmName = null)
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
        var deps = new JobDependencies(_pool, _gitHub, shell, inventory, new JobOptions { SshAttempts = sshAttempts }, _faults);
        parent.ChildActorOf(RunnerBootstrapper.Props(deps, 7, Repo, ["self-hosted", "blip"], vmName ?? vm!.Name, vmUid: null, previousRunnerId: null, sweepStale: false));
    }

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

        public Task StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct)
        {
            var call = Interlocked.Increment(ref _calls);
            if (call <= failures.Length)
            {
                throw failures[call - 1];
            }

            return ThenSucceed || failures.Length == 0 ? Task.CompletedTask : Task.FromException(failures[^1]);
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

        public Task<JitRunner> GenerateJitConfigAsync(RepoName repo, string runnerName, IReadOnlyList<string> labels, CancellationToken ct)
        {
            Interlocked.Increment(ref _jitConfigs);
            if (JitError is { } error)
            {
                return Task.FromException<JitRunner>(error);
            }

            return Task.FromResult(new JitRunner(Interlocked.Increment(ref _nextId), runnerName, new JitConfig("secret")));
        }

        public Task<RunnerInfo?> GetRunnerAsync(RepoName repo, long runnerId, CancellationToken ct) =>
            Task.FromResult<RunnerInfo?>(new RunnerInfo(runnerId, "blip-7-x", Status, false, []));

        public Task<DeleteRunnerOutcome> DeleteRunnerAsync(RepoName repo, long runnerId, CancellationToken ct)
        {
            Deleted.Enqueue(runnerId);
            return Task.FromResult(DeleteOutcome);
        }

        public Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct) => Task.FromResult<IReadOnlyList<RunnerInfo>>([]);

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

        public IAsyncEnumerable<VmPoolChange> WatchAsync(CancellationToken ct) => throw new NotSupportedException();
    }
}
