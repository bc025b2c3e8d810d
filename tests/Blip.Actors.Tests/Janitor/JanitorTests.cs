using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Janitor;

/// <summary>The janitor against probes standing in for the VM inventory and the job region (a cluster node of its own).</summary>
public sealed class JanitorTests : TestKit
{
    private const string Config = """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        """;

    private readonly Akka.TestKit.TestProbe _inventory;
    private readonly Akka.TestKit.TestProbe _jobs;

    public JanitorTests()
        : base(Config)
    {
        _inventory = CreateTestProbe();
        _jobs = CreateTestProbe();
    }

    private IActorRef StartJanitor(TimeSpan interval) =>
        Sys.ActorOf(Blip.Actors.Janitor.Janitor.Props(_inventory.Ref, _jobs.Ref, interval));

    [Fact]
    public async Task A_sweep_wakes_the_job_of_every_claimed_vm_with_its_claim_time_and_leaves_free_vms_alone()
    {
        StartJanitor(TimeSpan.FromMinutes(10));
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.GetAll>();

        _inventory.Reply(new VmInventoryProtocol.AllVms([FakeVmPool.Vm("vm-free"), FakeVmPool.Vm("vm-7", jobId: 7), FakeVmPool.Vm("vm-8", jobId: 8)], Synced: true));

        var woken = new[] { await _jobs.ExpectMsgAsync<JobCommands.Reconcile>(), await _jobs.ExpectMsgAsync<JobCommands.Reconcile>() };
        Assert.Equal([(7L, "vm-7"), (8L, "vm-8")], woken.Select(r => (r.JobId.Value, r.VmName)).Order());
        Assert.All(woken, r => Assert.Equal("2026-11-30T12:00:00Z", r.ClaimedAt));
    }

    [Fact]
    public async Task Before_the_vm_watch_has_synced_the_sweep_waits_and_asks_again()
    {
        StartJanitor(TimeSpan.FromMinutes(10));
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.GetAll>();

        // Not synced: a partial list would wake too few jobs, so nothing is told and the janitor asks again.
        _inventory.Reply(new VmInventoryProtocol.AllVms([FakeVmPool.Vm("vm-7", jobId: 7)], Synced: false));
        await _inventory.ExpectMsgAsync<VmInventoryProtocol.GetAll>(TimeSpan.FromSeconds(30));
        Assert.False(_jobs.HasMessages, "a job woken from an unsynced list");
        _inventory.Reply(new VmInventoryProtocol.AllVms([FakeVmPool.Vm("vm-7", jobId: 7)], Synced: true));

        Assert.Equal(7, (await _jobs.ExpectMsgAsync<JobCommands.Reconcile>()).JobId.Value);
    }

    [Fact]
    public async Task It_sweeps_again_every_interval()
    {
        StartJanitor(TimeSpan.FromMilliseconds(200));

        for (var sweep = 0; sweep < 3; sweep++)
        {
            await _inventory.ExpectMsgAsync<VmInventoryProtocol.GetAll>(TimeSpan.FromSeconds(30));
            _inventory.Reply(new VmInventoryProtocol.AllVms([FakeVmPool.Vm("vm-7", jobId: 7)], Synced: true));
            Assert.Equal(7, (await _jobs.ExpectMsgAsync<JobCommands.Reconcile>()).JobId.Value);
        }
    }
}
