using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Runners;

/// <summary>The bootstrapper's VM lookup against the clock: a virtual one (TestScheduler), so "a minute later" costs no
/// wall-clock time and no race with a loaded machine.</summary>
public sealed class RunnerBootstrapperLookupTests() : TestKit("""
    akka.loglevel = INFO
    akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
    """)
{
    [Fact]
    public async Task An_inventory_slow_to_answer_is_waited_for_not_taken_for_a_missing_vm()
    {
        var parent = CreateTestProbe();
        var inventory = CreateTestProbe();
        var gitHub = new FakeGitHub();
        var deps = new RunnerDependencies(gitHub, new FakeShell(), new FakeVmPool(), inventory, new ConfigurationFaults(), new RunnerOptions());
        parent.ChildActorOf(RunnerBootstrapper.Props(deps, 7, new RepoName("org", "repo"), ["self-hosted", "blip"], "vm-1", FakeVmPool.UidOf("vm-1"), null, sweepStale: false));
        await inventory.ExpectMsgAsync<VmInventoryProtocol.GetVm>(m => Assert.Equal("vm-1", m.VmName));

        // The inventory answers once its watch has synced: on a loaded machine or a slow API server, that takes a while.
        ((TestScheduler)Sys.Scheduler).Advance(TimeSpan.FromMinutes(1));
        inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-1", 7)));

        await parent.ExpectMsgAsync<RunnerBootstrapper.Registered>();
        await parent.ExpectMsgAsync<RunnerBootstrapper.Started>();
        Assert.Single(gitHub.JitNames);
    }
}
