using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

/// <summary>A stuck job routed to a pool (key <c>pools</c>) is judged by its own pool's VMs, and named on that pool.</summary>
public sealed class StuckJobWatchRoutingTests : TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan After = TimeSpan.FromMinutes(5);

    private readonly FakeVmPool _pool = new();

    [Fact]
    public async Task A_routed_job_waiting_while_only_the_default_pool_has_vms_is_named_no_vm_claimable_in_its_pool()
    {
        var inventory = CreateTestProbe();
        var assessed = CreateTestProbe();
        Sys.EventStream.Subscribe(assessed.Ref, typeof(WaitingJobsAssessed));
        var watch = Sys.ActorOf(StuckJobWatch.Props(_pool, inventory.Ref, "blip", After, () => T0));
        async Task CheckAsync(params VmView[] vms)
        {
            watch.Tell(StuckJobWatch.Check.Instance);
            await inventory.ExpectMsgAsync<VmInventoryProtocol.GetAll>();
            inventory.Reply(new VmInventoryProtocol.AllVms(vms, Synced: true));
            await assessed.ExpectMsgAsync<WaitingJobsAssessed>();
        }

        await CheckAsync();
        Sys.EventStream.Publish(new WaitingForVm.Started(7, new RepoName("org", "repo"), ["self-hosted", "blip", "large"], T0 - TimeSpan.FromMinutes(6), "blip-large"));
        Sys.EventStream.Publish(new WaitingForVm.Tried(7));
        await CheckAsync(FakeVmPool.Vm("blip-0", pool: "blip"), FakeVmPool.Vm("blip-1"), FakeVmPool.Vm("blip-large-0", jobId: 3, pool: "blip-large"));

        var (on, evt) = Assert.Single(_pool.Events);
        Assert.Equal("pool/blip-large", on);
        Assert.Equal("JobStuckNoVmClaimable", evt.Reason);
        Assert.Contains("no VM claimable in pool blip-large", evt.Message);
    }
}
