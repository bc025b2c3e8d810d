using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

public sealed class StuckJobsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly RepoName Repo = new("org", "repo");
    private static readonly TimeSpan After = TimeSpan.FromMinutes(5);

    private static WaitingJob Job(long id, TimeSpan waited, params string[] labels) =>
        new(id, Repo, labels.Length == 0 ? ["self-hosted", "blip"] : [.. labels], Now - waited);

    [Fact]
    public void A_job_is_stuck_from_the_threshold_on_and_only_once()
    {
        WaitingJob[] waiting = [Job(1, TimeSpan.FromMinutes(4)), Job(2, After), Job(3, TimeSpan.FromMinutes(9))];

        Assert.Equal([3, 2], StuckJobs.NewlyStuck(waiting, new HashSet<long>(), Now, After).Select(j => j.JobId));
        Assert.Equal([2], StuckJobs.NewlyStuck(waiting, new HashSet<long> { 3 }, Now, After).Select(j => j.JobId));
    }

    [Fact]
    public void A_job_whose_claimer_has_no_outcome_yet_is_judged_once_known_for_the_threshold()
    {
        var untried = Job(1, TimeSpan.FromMinutes(9)) with { Tried = false, KnownSince = Now - TimeSpan.FromMinutes(1) };
        var hung = untried with { JobId = 2, KnownSince = Now - After };

        Assert.Equal([2], StuckJobs.NewlyStuck([untried, hung], new HashSet<long>(), Now, After).Select(j => j.JobId));
        Assert.Equal([1, 2], StuckJobs.NewlyStuck([untried with { Tried = true }, hung], new HashSet<long>(), Now, After).Select(j => j.JobId));
    }

    [Fact]
    public void No_claimable_vm_is_a_capacity_problem() =>
        Assert.Equal(StuckCause.NoVmClaimable, StuckJobs.CauseOf(Job(1, After), claimableVms: 0, Now));

    [Fact]
    public void Claimable_vms_and_no_claim_is_a_controller_fault() =>
        Assert.Equal(StuckCause.VmsClaimableButNotClaimed, StuckJobs.CauseOf(Job(1, After), claimableVms: 2, Now));

    [Fact]
    public void A_recent_claim_failure_wins_over_the_pool_count()
    {
        var failing = Job(1, After) with { LastClaimFailure = "Forbidden", LastClaimFailureAt = Now.AddSeconds(-20) };

        Assert.Equal(StuckCause.ClaimsFailing, StuckJobs.CauseOf(failing, claimableVms: 2, Now));
        Assert.Equal(StuckCause.ClaimsFailing, StuckJobs.CauseOf(failing, claimableVms: 0, Now));
    }

    [Fact]
    public void A_claim_failure_long_past_is_not_the_cause()
    {
        var failedOnce = Job(1, After) with { LastClaimFailure = "timeout", LastClaimFailureAt = Now - StuckJobs.RecentFailure - TimeSpan.FromSeconds(1) };

        Assert.Equal(StuckCause.NoVmClaimable, StuckJobs.CauseOf(failedOnce, claimableVms: 0, Now));
    }

    [Fact]
    public void The_oldest_wait_is_kept_per_repo_and_label_set_with_labels_sorted()
    {
        WaitingJob[] waiting =
        [
            Job(1, TimeSpan.FromSeconds(30), "self-hosted", "blip"),
            Job(2, TimeSpan.FromSeconds(90), "blip", "self-hosted"),
            Job(3, TimeSpan.FromSeconds(10), "self-hosted", "blip", "large"),
            Job(4, TimeSpan.FromSeconds(50)) with { Repo = new RepoName("org", "other") },
        ];

        var assessed = StuckJobs.Assess(waiting, Now);

        Assert.Equal(
            [new("org/other", "blip,self-hosted", 50), new("org/repo", "blip,large,self-hosted", 10), new WaitingJobsAssessed.Oldest("org/repo", "blip,self-hosted", 90)],
            assessed.OldestByLabelSet);
    }

    [Fact]
    public void Each_cause_names_what_to_do()
    {
        var job = Job(1, After) with { LastClaimFailure = "Forbidden" };

        Assert.Contains("raise the VirtualMachinePool's replicas", StuckJobs.Describe(StuckCause.NoVmClaimable, job, 0, "blip"));
        Assert.Contains("claims failing (last: Forbidden)", StuckJobs.Describe(StuckCause.ClaimsFailing, job, 0, "blip"));
        Assert.Contains("VMs claimable but not claimed (3 claimable in pool blip)", StuckJobs.Describe(StuckCause.VmsClaimableButNotClaimed, job, 3, "blip"));
    }
}
