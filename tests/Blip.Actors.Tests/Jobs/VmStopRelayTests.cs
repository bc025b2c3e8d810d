using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

public sealed class VmStopRelayTests : TestKit
{
    [Fact]
    public async Task The_inventorys_news_of_a_stopped_vm_reaches_its_job_as_a_command()
    {
        var jobs = CreateTestProbe();
        var relay = Sys.ActorOf(VmStopRelay.Props(jobs.Ref));

        relay.Tell(new VmInventoryProtocol.JobVmStopped(42, "blip-3", Deleted: false, RunnerProvisioned: true, VmUid: "uid-3"));
        relay.Tell(new VmInventoryProtocol.JobVmStopped(43, "blip-4", Deleted: true, RunnerProvisioned: false, VmUid: null));

        Assert.Equal(new JobCommands.VmStopped(new JobId(42), "blip-3", Deleted: false, RunnerProvisioned: true, VmUid: "uid-3"), await jobs.ExpectMsgAsync<JobCommands.VmStopped>());
        Assert.Equal(new JobCommands.VmStopped(new JobId(43), "blip-4", Deleted: true, RunnerProvisioned: false, VmUid: null), await jobs.ExpectMsgAsync<JobCommands.VmStopped>());
    }
}
