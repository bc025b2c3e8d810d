using Blip.Actors.Janitor;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Janitor;

public sealed class OrphanRunnerSweeperTests
{
    private static RunnerInfo Runner(string name = "blip-42-a1b2", string status = "offline", bool busy = false) => new(7, name, status, busy, []);

    private static JobQueries.Status Job(JobPhase phase, long? runnerId = null) => new(new JobId(42), phase, "o/r", null, runnerId, null, null, null);

    [Theory]
    [InlineData(JobPhase.Done, null)]
    [InlineData(JobPhase.New, null)]
    [InlineData(JobPhase.Running, 8L)]
    [InlineData(JobPhase.Provisioning, 8L)]
    public void An_offline_idle_registration_whose_job_is_done_unknown_or_on_another_runner_is_an_orphan(JobPhase phase, long? jobRunner) =>
        Assert.True(OrphanRunnerSweeper.IsOrphan(Runner(), Job(phase, jobRunner)));

    [Fact]
    public void A_registration_its_job_still_uses_or_is_getting_is_not() =>
        Assert.All([Job(JobPhase.Running, 7), Job(JobPhase.Provisioning, 7), Job(JobPhase.Provisioning), Job(JobPhase.Claiming)],
            job => Assert.False(OrphanRunnerSweeper.IsOrphan(Runner(), job)));

    [Fact]
    public void A_busy_online_foreign_or_unanswered_registration_is_never_an_orphan()
    {
        var done = Job(JobPhase.Done);
        Assert.False(OrphanRunnerSweeper.IsOrphan(Runner(busy: true), done));
        Assert.False(OrphanRunnerSweeper.IsOrphan(Runner(status: "online"), done));
        Assert.False(OrphanRunnerSweeper.IsOrphan(Runner(name: "build-box-1"), done));
        Assert.False(OrphanRunnerSweeper.IsOrphan(Runner(), null));
    }

    [Theory]
    [InlineData("blip-42-a1b2", 42L)]
    [InlineData("blip-42", 42L)]
    [InlineData("blip-x-1", null)]
    [InlineData("other-42-1", null)]
    public void The_job_of_a_runner_comes_from_its_name(string name, long? job) =>
        Assert.Equal(job, OrphanRunnerSweeper.JobOf(name));
}
