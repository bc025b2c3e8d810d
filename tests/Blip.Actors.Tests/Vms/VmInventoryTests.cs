using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Vms;

/// <summary>
/// The inventory's cache against the pool watch's changes, told straight to the actor (the fake pool's watch stays
/// silent). Issue 13: VMs and VMIs are listed and watched apart, each with its own expiry; a relist of one kind
/// must never read as the deletion of the other.
/// </summary>
public sealed class VmInventoryTests : TestKit
{
    private const string Pool = "blip";
    private const long JobId = 42;

    private readonly TestProbe _jobs;
    private readonly IActorRef _inventory;

    public VmInventoryTests()
    {
        _jobs = CreateTestProbe();
        _inventory = Sys.ActorOf(VmInventory.Props(new SilentPool(), _jobs.Ref, Pool));
    }

    public enum Relists
    {
        VmisOnly,
        VmsThenVmis,
        VmisThenVms,
        VmsOnly,
    }

    [Theory]
    [InlineData(Relists.VmisOnly)]
    [InlineData(Relists.VmsThenVmis)]
    [InlineData(Relists.VmisThenVms)]
    [InlineData(Relists.VmsOnly)]
    public async Task A_vm_created_since_the_first_lists_survives_every_ordering_of_the_two_relists(Relists order)
    {
        await InitialListsAsync(vms: ["blip-0"], vmis: ["blip-0"]);
        // blip-1 came later, through the watches only, and a job claimed it.
        _inventory.Tell(Vm("blip-1", claimedBy: JobId));
        _inventory.Tell(Vmi("blip-1"));

        foreach (var kind in order switch
        {
            Relists.VmisOnly => new[] { VmPoolKind.Vmis },
            Relists.VmsThenVmis => [VmPoolKind.Vms, VmPoolKind.Vmis],
            Relists.VmisThenVms => [VmPoolKind.Vmis, VmPoolKind.Vms],
            _ => [VmPoolKind.Vms],
        })
        {
            // Each kind's relist lists what that kind holds now: both VMs, or both VMIs.
            if (kind == VmPoolKind.Vms)
            {
                _inventory.Tell(Vm("blip-0"));
                _inventory.Tell(Vm("blip-1", claimedBy: JobId));
            }
            else
            {
                _inventory.Tell(Vmi("blip-0"));
                _inventory.Tell(Vmi("blip-1"));
            }

            _inventory.Tell(new VmPoolChange.Resynced(kind, new HashSet<string> { "blip-0", "blip-1" }, Complete: true));
        }

        var all = await SettledAsync();
        var mine = Assert.Single(all.Vms, v => v.Name == "blip-1");
        Assert.Equal(JobId, mine.ClaimedByJob);
        Assert.True(mine.VmiReady);
        Assert.False(_jobs.HasMessages, "a relist told a job its VM stopped or was deleted");
        Assert.Equal("blip-1", (await _inventory.Ask<VmInventoryProtocol.VmOfJob>(new VmInventoryProtocol.FindVmOfJob(JobId))).Vm?.Name);
    }

    [Fact]
    public async Task A_vmi_relist_without_a_vms_instance_drops_only_the_instance()
    {
        await InitialListsAsync(vms: ["blip-0"], vmis: ["blip-0"]);
        _inventory.Tell(Vm("blip-1", claimedBy: JobId));
        _inventory.Tell(Vmi("blip-1"));

        _inventory.Tell(Vmi("blip-0"));
        _inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vmis, new HashSet<string> { "blip-0" }, Complete: true));

        var all = await SettledAsync();
        var mine = Assert.Single(all.Vms, v => v.Name == "blip-1");
        Assert.False(mine.VmiReady);
        Assert.False(_jobs.HasMessages, "a VMI relist told a job its VM was deleted");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_vm_relist_without_the_vm_is_its_deletion_whether_or_not_vmis_relisted_first(bool vmisFirst)
    {
        await InitialListsAsync(vms: ["blip-0"], vmis: ["blip-0"]);
        _inventory.Tell(Vm("blip-1", claimedBy: JobId));
        _inventory.Tell(Vmi("blip-1"));
        if (vmisFirst)
        {
            _inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vmis, new HashSet<string> { "blip-0", "blip-1" }, Complete: true));
        }

        _inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vms, new HashSet<string> { "blip-0" }, Complete: true));

        var stopped = await _jobs.ExpectMsgAsync<VmInventoryProtocol.JobVmStopped>();
        Assert.Equal(new VmInventoryProtocol.JobVmStopped(JobId, "blip-1", Deleted: true, RunnerProvisioned: false, VmUid: "uid-of-blip-1"), stopped);
        var all = await SettledAsync();
        Assert.DoesNotContain(all.Vms, v => v.Name == "blip-1");
    }

    [Fact]
    public async Task A_terminating_vm_is_never_offered()
    {
        await InitialListsAsync(vms: ["blip-0"], vmis: ["blip-0"]);
        _inventory.Tell(Vm("blip-0", terminating: true));

        var reply = await _inventory.Ask<object>(new VmInventoryProtocol.RequestVm(JobId), TimeSpan.FromSeconds(10));

        Assert.IsType<VmInventoryProtocol.NoVmAvailable>(reply);
        Assert.True(Assert.Single((await SettledAsync()).Vms).Terminating);
    }

    [Fact]
    public async Task A_reused_name_seen_without_the_old_vms_deletion_reports_the_old_vm_deleted()
    {
        await InitialListsAsync(vms: ["blip-0"], vmis: ["blip-0"]);
        _inventory.Tell(Vm("blip-0", claimedBy: JobId, uid: "old"));
        // The old VM's DELETED was missed (a relist saw the new VM of the same name straight away).
        _inventory.Tell(Vm("blip-0", uid: "new"));

        var stopped = await _jobs.ExpectMsgAsync<VmInventoryProtocol.JobVmStopped>();
        Assert.Equal(new VmInventoryProtocol.JobVmStopped(JobId, "blip-0", Deleted: true, RunnerProvisioned: false, VmUid: "old"), stopped);
        var vm = Assert.Single((await SettledAsync()).Vms);
        Assert.Equal("new", vm.Uid);
        Assert.Null(vm.ClaimedByJob);
    }

    [Fact]
    public async Task A_stopped_instance_of_a_deleted_vm_never_stops_the_new_vm_of_the_same_name()
    {
        // Found by the cluster test: the old VM's DELETED and the new VM of its name came on the VM watch before the
        // VMI watch said the old (stopped) instance was gone; the new VM's job was told its VM stopped, gave it up and
        // deleted it under a running runner. Watches of two kinds are never ordered with each other.
        await InitialListsAsync(vms: ["blip-0"], vmis: ["blip-0"]);
        _inventory.Tell(Vm("blip-0", claimedBy: 7, uid: "old"));
        _inventory.Tell(Vmi("blip-0", owner: "old", phase: "Succeeded"));
        Assert.Equal(7, (await _jobs.ExpectMsgAsync<VmInventoryProtocol.JobVmStopped>()).JobId);
        _inventory.Tell(new VmPoolChange.VmDeleted("blip-0"));
        Assert.Equal(7, (await _jobs.ExpectMsgAsync<VmInventoryProtocol.JobVmStopped>()).JobId);

        _inventory.Tell(Vm("blip-0", uid: "new"));
        _inventory.Tell(Vm("blip-0", claimedBy: JobId, uid: "new"));
        var mine = Assert.Single((await SettledAsync()).Vms);
        Assert.False(_jobs.HasMessages, "the old VM's instance stopped the new VM's job");
        Assert.False(mine.VmiReady);
        Assert.Null(mine.VmiPhase);

        // The new VM's own instance counts, stopped or not.
        _inventory.Tell(new VmPoolChange.VmiDeleted("blip-0"));
        _inventory.Tell(Vmi("blip-0", owner: "new"));
        Assert.True(Assert.Single((await SettledAsync()).Vms).VmiReady);
        _inventory.Tell(Vmi("blip-0", owner: "new", phase: "Succeeded"));
        var stopped = await _jobs.ExpectMsgAsync<VmInventoryProtocol.JobVmStopped>();
        Assert.Equal(new VmInventoryProtocol.JobVmStopped(JobId, "blip-0", Deleted: false, RunnerProvisioned: false, VmUid: "new"), stopped);
    }

    [Fact]
    public async Task Questions_wait_until_both_kinds_have_listed()
    {
        _inventory.Tell(Vm("blip-0"));
        _inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vms, new HashSet<string> { "blip-0" }, Complete: false));
        // Asked before the VMIs were listed: answered only after, with the cache whole.
        var answer = _inventory.Ask<VmInventoryProtocol.AllVms>(VmInventoryProtocol.GetAll.Instance);
        _inventory.Tell(Vmi("blip-0"));
        _inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vmis, new HashSet<string> { "blip-0" }, Complete: true));

        var all = await answer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(all.Synced);
        Assert.True(Assert.Single(all.Vms).VmiReady);
    }

    [Fact]
    public async Task A_vm_that_becomes_claimable_wakes_the_first_waiter_only_then_the_next_vm_the_next()
    {
        await InitialListsAsync(vms: [], vmis: []);
        var waiters = new[] { CreateTestProbe(), CreateTestProbe(), CreateTestProbe() };
        foreach (var (waiter, i) in waiters.Select((w, i) => (w, i)))
        {
            _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId + i), waiter.Ref);
            await waiter.ExpectMsgAsync<VmInventoryProtocol.NoVmAvailable>();
        }

        _inventory.Tell(Vm("blip-0"));
        _inventory.Tell(Vmi("blip-0"));
        await SettledAsync();

        // Every wake-up was sent while the inventory handled those changes, so what has not arrived now was never sent.
        await waiters[0].ExpectMsgAsync<VmInventoryProtocol.VmAvailable>();
        Assert.False(waiters[1].HasMessages || waiters[2].HasMessages, "a waiter behind the first was woken for one VM");

        // The first one takes it; a second VM wakes the second waiter, never the first again.
        _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId), waiters[0].Ref);
        Assert.Equal("blip-0", (await waiters[0].ExpectMsgAsync<VmInventoryProtocol.VmOffer>()).Vm.Name);
        _inventory.Tell(Vm("blip-1"));
        _inventory.Tell(Vmi("blip-1"));
        await SettledAsync();
        await waiters[1].ExpectMsgAsync<VmInventoryProtocol.VmAvailable>();
        Assert.False(waiters[0].HasMessages || waiters[2].HasMessages, "a VM woke someone other than the next in line");
    }

    [Fact]
    public async Task A_waiter_that_stops_after_it_was_woken_leaves_the_vm_to_the_next_in_line()
    {
        await InitialListsAsync(vms: [], vmis: []);
        var first = Sys.ActorOf(Props.Create(() => new Forwarder(TestActor)));
        var second = CreateTestProbe();
        _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId), first);
        ExpectMsg<VmInventoryProtocol.NoVmAvailable>();
        _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId + 1), second.Ref);
        await second.ExpectMsgAsync<VmInventoryProtocol.NoVmAvailable>();

        _inventory.Tell(Vm("blip-0"));
        _inventory.Tell(Vmi("blip-0"));
        ExpectMsg<VmInventoryProtocol.VmAvailable>();
        Assert.False(second.HasMessages, "the second waiter was woken while the first was");
        Sys.Stop(first);

        await second.ExpectMsgAsync<VmInventoryProtocol.VmAvailable>();
        _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId + 1), second.Ref);
        Assert.Equal("blip-0", (await second.ExpectMsgAsync<VmInventoryProtocol.VmOffer>()).Vm.Name);
    }

    [Fact]
    public async Task A_waiter_asking_again_before_any_vm_keeps_its_place_in_line()
    {
        await InitialListsAsync(vms: [], vmis: []);
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId), first.Ref);
        _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId + 1), second.Ref);
        // The first one's retry: still no VM, and still first.
        _inventory.Tell(new VmInventoryProtocol.RequestVm(JobId), first.Ref);
        await first.ExpectMsgAsync<VmInventoryProtocol.NoVmAvailable>();
        await first.ExpectMsgAsync<VmInventoryProtocol.NoVmAvailable>();
        await second.ExpectMsgAsync<VmInventoryProtocol.NoVmAvailable>();

        _inventory.Tell(Vm("blip-0"));
        _inventory.Tell(Vmi("blip-0"));
        await SettledAsync();

        await first.ExpectMsgAsync<VmInventoryProtocol.VmAvailable>();
        Assert.False(second.HasMessages, "the retry sent the first waiter to the back of the line");
    }

    private async Task InitialListsAsync(string[] vms, string[] vmis)
    {
        foreach (var name in vms)
        {
            _inventory.Tell(Vm(name));
        }

        _inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vms, vms.ToHashSet(), Complete: false));
        foreach (var name in vmis)
        {
            _inventory.Tell(Vmi(name));
        }

        _inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vmis, vmis.ToHashSet(), Complete: true));
        await SettledAsync();
    }

    /// <summary>The cache once every change told so far is applied: a deletion a relist found is told to self, so it
    /// lands after the first answer and before the second.</summary>
    private async Task<VmInventoryProtocol.AllVms> SettledAsync()
    {
        await _inventory.Ask<VmInventoryProtocol.AllVms>(VmInventoryProtocol.GetAll.Instance, TimeSpan.FromSeconds(10));
        return await _inventory.Ask<VmInventoryProtocol.AllVms>(VmInventoryProtocol.GetAll.Instance, TimeSpan.FromSeconds(10));
    }

    private static VmPoolChange.VmUpserted Vm(string name, long? claimedBy = null, string? uid = null, bool terminating = false)
    {
        var annotations = new Dictionary<string, string>
        {
            [VmAnnotations.HostKey] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOf" + name,
            [VmAnnotations.ClientKey] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIClientKey",
        };
        if (claimedBy is { } job)
        {
            annotations[VmAnnotations.SessionId] = VmAnnotations.SessionFor(job);
        }

        return new VmPoolChange.VmUpserted(name, "1", annotations, new Dictionary<string, string> { [VmAnnotations.PoolLabel] = Pool }, new Blip.Actors.Tests.ActorFakes.FakeVmSource(),
            uid ?? "uid-of-" + name, terminating);
    }

    private static VmPoolChange.VmiUpserted Vmi(string name, string? owner = null, string phase = "Running") =>
        new(name, Ready: phase == "Running", Address: "10.0.0.1", Phase: phase, OwnerUid: owner ?? "uid-of-" + name);

    /// <summary>Stands in for a claimer that can be stopped: passes on what the inventory tells it.</summary>
    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef to) => ReceiveAny(m => to.Forward(m));
    }

    /// <summary>A pool whose watch never says anything: the tests tell the inventory its changes directly.</summary>
    private sealed class SilentPool : IVmPool
    {
        public Task<ClaimOutcome> TryClaimAsync(VmView vm, IReadOnlyDictionary<string, string> annotations, CancellationToken ct) => throw new NotSupportedException();

        public Task<bool> AnnotateAsync(string vmName, string? vmUid, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct) => throw new NotSupportedException();

        public Task ReleaseAsync(string vmName, string? vmUid, string sessionId, CancellationToken ct) => throw new NotSupportedException();

        public Task RecordEventAsync(string vmName, string? vmUid, VmEvent vmEvent, CancellationToken ct) => throw new NotSupportedException();

        public Task RecordPoolEventAsync(VmEvent poolEvent, CancellationToken ct) => throw new NotSupportedException();

        public async IAsyncEnumerable<VmPoolChange> WatchAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            yield break;
        }
    }
}
