using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary>A job taken up again (its runner ran another job) never adopts the VM of its earlier cycle: a VM serves one
/// runner. Found in KubernetesFaultTests: a re-take 350 ms after the release adopted the VM by its session, and the VM
/// powered off under the new runner's job, which stayed in progress.</summary>
public sealed class JobStateSpentVmTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly JobLimits Limits = new(MaxVmsGivenUpPerJob: 3, QueuedSightingTimeout: TimeSpan.FromMinutes(2), IdleRunnerGrace: TimeSpan.FromMinutes(1), MaxDurationSeconds: 1800);

    private static JobState TakenUpAgain() =>
        new IJobEvent[]
        {
            new JobEvents.JobSighted(42, "org/repo", ["self-hosted", "blip"], 7, Now, Now),
            new JobEvents.VmClaimed("vm-1", Now, "uid-1"),
            new JobEvents.RunnerRegistered(5, "blip-42-a"),
            new JobEvents.RunnerStarted(Now),
            new JobEvents.JobFinished(JobOutcome.Completed, "runner deregistered", Now.AddSeconds(5)),
            new JobEvents.VmReleased("vm-1", Now.AddSeconds(5)),
            new JobEvents.JobSighted(42, "org/repo", ["self-hosted", "blip"], 7, Now, Now.AddSeconds(6)),
        }.Aggregate(JobState.Empty, (s, e) => s.Apply(e));

    [Fact]
    public void The_vm_of_the_earlier_cycle_is_spent_and_not_adoptable()
    {
        var state = TakenUpAgain();

        Assert.Equal((JobPhase.Claiming, 2), (state.Phase, state.Cycles));
        Assert.Equal(["uid-1"], state.SpentVms.ToArray());
        Assert.False(state.MayAdopt("vm-1", "uid-1"));
        Assert.True(state.MayAdopt("vm-1", "uid-new")); // the name reused by a new VM
        Assert.Empty(state.AbandonedVms); // spent is not given up: it does not count toward Blip:MaxVmsGivenUpPerJob
    }

    [Fact]
    public void A_reconcile_finding_the_spent_vm_releases_it_instead_of_adopting_it()
    {
        var state = TakenUpAgain();

        var decision = state.Decide(new JobCommands.Reconcile(new JobId(42), "vm-1", VmUid: "uid-1"), JobMemory.Start(Limits, Now), Now.AddSeconds(7));

        Assert.Empty(decision.Events);
        Assert.Contains(decision.Effects, e => e is JobEffect.ReleaseVm { VmName: "vm-1" });
    }

    [Fact]
    public void A_first_cycle_has_nothing_spent()
    {
        var first = JobState.Empty.Apply(new JobEvents.JobSighted(42, "org/repo", ["self-hosted", "blip"], 7, Now, Now));

        Assert.Empty(first.SpentVms);
        Assert.True(first.MayAdopt("vm-1", "uid-1"));
    }
}
