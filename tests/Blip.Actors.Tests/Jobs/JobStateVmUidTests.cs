using System.Text;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary>Pool VM names are reused (issue 13): a job knows its VM by uid as well as name.</summary>
public sealed class JobStateVmUidTests : TestKit
{
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static JobState Claimed(string vm, string? uid) =>
        JobState.Empty
            .Apply(new JobEvents.JobSighted(42, "org/repo", ["self-hosted", "blip"], 7, At, At))
            .Apply(new JobEvents.VmClaimed(vm, At, uid));

    [Fact]
    public void A_vm_given_up_is_excluded_by_uid_so_a_new_vm_of_the_same_name_stays_claimable()
    {
        var state = Claimed("blip-0", "uid-1").Apply(new JobEvents.VmAbandoned("blip-0", "ssh refused", "uid-1"));

        Assert.Equal(["uid-1"], state.AbandonedVms.ToArray());
        Assert.Null(state.VmUid);
        Assert.Equal("uid-2", Claimed("blip-0", "uid-2").VmUid);
    }

    [Fact]
    public void A_stop_report_for_an_earlier_vm_of_the_same_name_is_not_this_vms()
    {
        var running = Claimed("blip-0", "uid-2").Apply(new JobEvents.RunnerRegistered(5, "r")).Apply(new JobEvents.RunnerStarted(At));

        Assert.Empty(running.OnVmStopped(new JobCommands.VmStopped(new JobId(42), "blip-0", Deleted: true, VmUid: "uid-1"), At));
        Assert.Single(running.OnVmStopped(new JobCommands.VmStopped(new JobId(42), "blip-0", Deleted: true, VmUid: "uid-2"), At));
        // A report without a uid still counts (nothing to tell it by).
        Assert.Single(running.OnVmStopped(new JobCommands.VmStopped(new JobId(42), "blip-0", Deleted: true), At));
    }

    [Fact]
    public void The_vms_events_carry_its_uid()
    {
        var sighted = JobState.Empty.Apply(new JobEvents.JobSighted(42, "org/repo", ["self-hosted"], 7, At, At));
        var claim = new JobEvents.VmClaimed("blip-0", At, "uid-2");
        var claimed = sighted.Apply(claim);
        var finish = new JobEvents.JobFinished(JobOutcome.Completed, "done", At);

        Assert.Equal("uid-2", JobState.VmEventFor(sighted, claimed, claim)!.Value.VmUid);
        Assert.Equal("uid-2", JobState.VmEventFor(claimed, claimed.Apply(finish), finish)!.Value.VmUid);
        Assert.Equal(RepoName.Parse("org/repo"), claimed.Repo);
    }

    [Fact]
    public void A_claim_journaled_before_uids_were_kept_reads_back_without_one()
    {
        var serializer = new JobEventSerializer((ExtendedActorSystem)Sys);
        var old = Encoding.UTF8.GetBytes("""{"vmName":"blip-abcde","claimedAt":"2026-11-27T12:00:00+00:00"}""");

        var claim = Assert.IsType<JobEvents.VmClaimed>(serializer.FromBinary(old, "vm-claimed.v1"));
        var abandoned = Assert.IsType<JobEvents.VmAbandoned>(serializer.FromBinary(Encoding.UTF8.GetBytes("""{"vmName":"blip-abcde","reason":"x"}"""), "vm-abandoned.v1"));

        Assert.Equal("blip-abcde", claim.VmName);
        Assert.Null(claim.VmUid);
        Assert.Null(abandoned.VmUid);
        var back = serializer.FromBinary(serializer.ToBinary(new JobEvents.VmClaimed("blip-0", At, "uid-2")), "vm-claimed.v1");
        Assert.Equal("uid-2", Assert.IsType<JobEvents.VmClaimed>(back).VmUid);
    }
}
