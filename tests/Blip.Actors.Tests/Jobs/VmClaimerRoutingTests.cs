using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

/// <summary>A job routed to a pool (key <c>pools</c>) claims a VM of that pool only: the claimer asks the inventory for
/// one, and the inventory offers none of another pool.</summary>
public sealed class VmClaimerRoutingTests() : TestKit(LeanMailbox.Hocon)
{
    private const long JobId = 42;
    private const string DefaultPool = "blip";
    private const string LargePool = "blip-large";
    private static readonly JobState Job = JobState.Empty with
    {
        JobId = JobId,
        Repo = new RepoName("org", "repo"),
        Labels = ["self-hosted", "blip", "large"],
        Pool = LargePool,
        SightedAt = DateTimeOffset.UtcNow,
    };

    private readonly FakeVmPool _pool = new();

    private JobDependencies Deps(IActorRef inventory) =>
        new(_pool, new FakeGitHub(), new FakeShell(), inventory, new JobOptions { Pool = DefaultPool }, new ConfigurationFaults());

    [Fact]
    public async Task A_routed_job_asks_the_inventory_for_a_vm_of_its_pool()
    {
        var inventory = CreateTestProbe();
        var parent = CreateTestProbe();
        parent.ChildActorOf(VmClaimer.Props(JobId, Job, Deps(inventory.Ref)));
        await inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>();
        inventory.Reply(new VmInventoryProtocol.VmOfJob(null));

        var request = await inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();

        Assert.Equal((JobId, LargePool), (request.JobId, request.Pool));
    }

    [Fact]
    public async Task A_routed_job_claims_a_vm_of_its_pool_and_never_one_of_the_default_pool()
    {
        var inventory = Sys.ActorOf(VmInventory.Props(_pool, CreateTestProbe().Ref, DefaultPool));
        inventory.Tell(Vm("blip-0", DefaultPool));
        inventory.Tell(Vm("blip-large-0", LargePool));
        inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vms, new HashSet<string> { "blip-0", "blip-large-0" }, Complete: false));
        inventory.Tell(Vmi("blip-0"));
        inventory.Tell(Vmi("blip-large-0"));
        inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vmis, new HashSet<string> { "blip-0", "blip-large-0" }, Complete: true));
        var parent = CreateTestProbe();

        parent.ChildActorOf(VmClaimer.Props(JobId, Job, Deps(inventory)));

        Assert.Equal("blip-large-0", (await parent.ExpectMsgAsync<VmClaimer.Claimed>()).VmName);
        Assert.Equal(["blip-large-0"], _pool.Claims);
    }

    [Fact]
    public async Task A_routed_job_whose_pool_has_no_claimable_vm_is_offered_none_of_another_pool()
    {
        var inventory = Sys.ActorOf(VmInventory.Props(_pool, CreateTestProbe().Ref, DefaultPool));
        inventory.Tell(Vm("blip-0", DefaultPool));
        inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vms, new HashSet<string> { "blip-0" }, Complete: false));
        inventory.Tell(Vmi("blip-0"));
        inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vmis, new HashSet<string> { "blip-0" }, Complete: true));

        inventory.Tell(new VmInventoryProtocol.RequestVm(JobId, LargePool));
        await ExpectMsgAsync<VmInventoryProtocol.NoVmAvailable>();
        inventory.Tell(new VmInventoryProtocol.RequestVm(JobId + 1));
        Assert.Equal("blip-0", (await ExpectMsgAsync<VmInventoryProtocol.VmOffer>()).Vm.Name);
    }

    [Fact]
    public async Task A_job_waiting_on_its_pool_is_woken_by_a_vm_of_that_pool_only()
    {
        var inventory = Sys.ActorOf(VmInventory.Props(_pool, CreateTestProbe().Ref, DefaultPool));
        inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vms, new HashSet<string>(), Complete: false));
        inventory.Tell(new VmPoolChange.Resynced(VmPoolKind.Vmis, new HashSet<string>(), Complete: true));
        inventory.Tell(new VmInventoryProtocol.RequestVm(JobId, LargePool));
        await ExpectMsgAsync<VmInventoryProtocol.NoVmAvailable>();

        inventory.Tell(Vm("blip-0", DefaultPool));
        inventory.Tell(Vmi("blip-0"));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        inventory.Tell(Vm("blip-large-0", LargePool));
        inventory.Tell(Vmi("blip-large-0"));

        await ExpectMsgAsync<VmInventoryProtocol.VmAvailable>();
    }

    private static VmPoolChange.VmUpserted Vm(string name, string pool) =>
        new(name, "1",
            new Dictionary<string, string>
            {
                [VmAnnotations.HostKey] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOf" + name,
                [VmAnnotations.ClientKey] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIClientKey",
            },
            new Dictionary<string, string> { [VmAnnotations.PoolLabel] = pool }, new FakeVmSource(), "uid-of-" + name);

    private static VmPoolChange.VmiUpserted Vmi(string name) =>
        new(name, Ready: true, Address: "10.0.0.1", Phase: "Running", OwnerUid: "uid-of-" + name);
}
