using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

/// <summary>The claimer against a probe standing in for the VM inventory and a fake pool; its parent is a probe.</summary>
public sealed class VmClaimerTests : TestKit
{
    private const long JobId = 42;
    private static readonly RepoName Repo = new("org", "repo");
    private static readonly DateTimeOffset QueuedAt = DateTimeOffset.UtcNow.AddMinutes(-3);
    private static readonly JobState Job = JobState.Empty with { JobId = JobId, Repo = Repo, Labels = ["self-hosted", "blip"], QueuedAt = QueuedAt, SightedAt = DateTimeOffset.UtcNow };

    private readonly FakeVmPool _pool = new();
    private readonly Akka.TestKit.TestProbe _inventory;
    private readonly Akka.TestKit.TestProbe _parent;

    public VmClaimerTests()
        : base(LeanMailbox.Hocon)
    {
        _inventory = CreateTestProbe();
        _parent = CreateTestProbe();
    }

    private IActorRef StartClaimer(params string[] excludedUids)
    {
        var deps = new JobDependencies(_pool, new FakeGitHub(), new FakeShell(), _inventory.Ref, new JobOptions(), new ConfigurationFaults());
        var claimer = _parent.ChildActorOf(VmClaimer.Props(JobId, Job with { AbandonedVms = [.. excludedUids] }, deps));
        Watch(claimer);
        return claimer;
    }

    /// <summary>The claimer's first question: is there a VM claimed for this job already? No.</summary>
    private async Task NoVmOfJobYetAsync()
    {
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>(m => Assert.Equal(JobId, m.JobId));
        _inventory.Reply(new VmInventoryProtocol.VmOfJob(null));
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>(m => Assert.Equal(JobId, m.JobId));
    }

    [Fact]
    public async Task A_vm_already_claimed_for_the_job_is_adopted_without_a_new_claim()
    {
        var claimer = StartClaimer();
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
        _inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-a", JobId)));

        var claimed = await _parent.ExpectMsgAsync<VmClaimer.Claimed>();

        Assert.Equal("vm-a", claimed.VmName);
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T12:00:00Z"), claimed.ClaimedAt);
        await ExpectTerminatedAsync(claimer);
        Assert.Empty(_pool.Claims);
    }

    [Fact]
    public async Task A_vm_of_the_job_that_was_given_up_is_not_adopted_again()
    {
        StartClaimer(FakeVmPool.UidOf("vm-given-up"));
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
        _inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-given-up", JobId)));

        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-b")));

        Assert.Equal("vm-b", (await _parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
        Assert.Equal(["vm-b"], _pool.Claims);
    }

    [Fact]
    public async Task A_vm_of_the_jobs_earlier_cycle_is_not_adopted()
    {
        var deps = new JobDependencies(_pool, new FakeGitHub(), new FakeShell(), _inventory.Ref, new JobOptions(), new ConfigurationFaults());
        _parent.ChildActorOf(VmClaimer.Props(JobId, Job with { SpentVms = [FakeVmPool.UidOf("vm-spent")] }, deps));
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
        _inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-spent", JobId)));

        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-b")));

        Assert.Equal("vm-b", (await _parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
        Assert.Equal(["vm-b"], _pool.Claims);
    }

    [Fact]
    public async Task An_offered_vm_is_claimed_and_the_parent_told()
    {
        var claimer = StartClaimer();
        await NoVmOfJobYetAsync();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));

        Assert.Equal("vm-a", (await _parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
        await ExpectTerminatedAsync(claimer);
        Assert.Equal(["vm-a"], _pool.Claims);
    }

    [Theory]
    [InlineData(ClaimOutcome.Conflict)]
    [InlineData(ClaimOutcome.Gone)]
    public async Task A_claim_lost_to_another_writer_or_a_deletion_moves_on_to_the_next_offer(ClaimOutcome lost)
    {
        _pool.OnClaim = vm => Task.FromResult(vm.Name == "vm-a" ? lost : ClaimOutcome.Claimed);
        StartClaimer();
        await NoVmOfJobYetAsync();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));

        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-b")));

        Assert.Equal("vm-b", (await _parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
        Assert.Equal(["vm-a", "vm-b"], _pool.Claims);
    }

    [Fact]
    public async Task An_excluded_vm_offered_is_passed_over_without_a_claim()
    {
        StartClaimer(FakeVmPool.UidOf("vm-bad"));
        await NoVmOfJobYetAsync();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-bad")));

        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-good")));

        Assert.Equal("vm-good", (await _parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
        Assert.Equal(["vm-good"], _pool.Claims);
    }

    [Fact]
    public async Task With_no_vm_free_it_asks_again_when_the_inventory_says_one_is_available()
    {
        StartClaimer();
        await NoVmOfJobYetAsync();
        // Each refusal doubles the backoff (1, 2, 4, 8, 16, 30 s): after six the retry is 30 s away, so a question
        // well within that comes from the news, not from the timer.
        for (var i = 0; i < 6; i++)
        {
            _inventory.Reply(VmInventoryProtocol.NoVmAvailable.Instance);
        }

        _inventory.Reply(VmInventoryProtocol.VmAvailable.Instance);

        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>(TimeSpan.FromSeconds(15));
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-fresh")));

        Assert.Equal("vm-fresh", (await _parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
    }

    [Fact]
    public async Task With_no_vm_free_and_no_news_it_asks_again_after_a_backoff()
    {
        StartClaimer();
        await NoVmOfJobYetAsync();
        _inventory.Reply(VmInventoryProtocol.NoVmAvailable.Instance);

        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>(TimeSpan.FromSeconds(30));
        _inventory.Reply(VmInventoryProtocol.NoVmAvailable.Instance);
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>(TimeSpan.FromSeconds(30));
        Assert.Empty(_pool.Claims);
    }

    [Fact]
    public async Task A_claim_that_fails_outright_is_retried_after_a_backoff()
    {
        var attempts = 0;
        _pool.OnClaim = _ => Interlocked.Increment(ref attempts) == 1
            ? Task.FromException<ClaimOutcome>(new HttpRequestException("connection refused"))
            : Task.FromResult(ClaimOutcome.Claimed);
        StartClaimer();
        await NoVmOfJobYetAsync();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));

        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>(TimeSpan.FromSeconds(30));
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));

        Assert.Equal("vm-a", (await _parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
        Assert.Equal(2, _pool.Claims.Count);
    }

    [Fact]
    public async Task It_says_on_the_event_stream_that_the_job_waits_for_a_vm_that_a_claim_failed_and_that_it_stopped()
    {
        var stream = CreateTestProbe();
        Sys.EventStream.Subscribe(stream.Ref, typeof(WaitingForVm.Started));
        Sys.EventStream.Subscribe(stream.Ref, typeof(WaitingForVm.ClaimFailed));
        Sys.EventStream.Subscribe(stream.Ref, typeof(WaitingForVm.Stopped));
        _pool.OnClaim = _ => Task.FromException<ClaimOutcome>(new HttpRequestException("connection refused"));

        var claimer = StartClaimer();
        var started = await stream.ExpectMsgAsync<WaitingForVm.Started>();
        await NoVmOfJobYetAsync();
        _inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));
        var failed = await stream.ExpectMsgAsync<WaitingForVm.ClaimFailed>();
        Sys.Stop(claimer);

        Assert.Equal((JobId, Repo, QueuedAt), (started.JobId, started.Repo, started.Since));
        Assert.Equal(["self-hosted", "blip"], started.Labels.ToArray());
        Assert.Equal((JobId, "connection refused"), (failed.JobId, failed.Reason));
        Assert.Equal(JobId, (await stream.ExpectMsgAsync<WaitingForVm.Stopped>()).JobId);
    }

    [Fact]
    public async Task It_says_once_that_its_first_attempt_has_an_outcome()
    {
        var stream = CreateTestProbe();
        Sys.EventStream.Subscribe(stream.Ref, typeof(WaitingForVm.Tried));
        Sys.EventStream.Subscribe(stream.Ref, typeof(WaitingForVm.Stopped));

        var claimer = StartClaimer();
        await NoVmOfJobYetAsync();
        _inventory.Reply(VmInventoryProtocol.NoVmAvailable.Instance);
        Assert.Equal(JobId, (await stream.ExpectMsgAsync<WaitingForVm.Tried>()).JobId);
        claimer.Tell(VmInventoryProtocol.VmAvailable.Instance);
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        _inventory.Reply(VmInventoryProtocol.NoVmAvailable.Instance);
        Sys.Stop(claimer);

        Assert.Equal(JobId, (await stream.ExpectMsgAsync<WaitingForVm.Stopped>()).JobId);
    }
}
