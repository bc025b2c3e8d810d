using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Stop the controller at points of a job's life and start it again on the same SQLite journal.</summary>
public sealed class RestartTests
{
    public enum StopPoint
    {
        AfterClaim,
        AfterRunnerStarted,
    }

    [Theory]
    [InlineData(StopPoint.AfterClaim)]
    [InlineData(StopPoint.AfterRunnerStarted)]
    public async Task Every_job_still_ends_with_exactly_one_runner_and_no_vm_left_claimed(StopPoint point)
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.StartControllerAsync();
        var jobs = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            jobs.Add((await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 3)).JobId);
        }

        if (point == StopPoint.AfterClaim)
        {
            await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, PipelineWorld.Deadline, "a claim");
        }
        else
        {
            await Deadline.UntilAsync(() => world.GitHub.ListJobsAsync("org/repo"), js => js.Any(j => j.Status == "in_progress"), PipelineWorld.Deadline, "a runner at work");
        }

        await world.StopControllerAsync();
        await world.StartControllerAsync();

        foreach (var id in jobs)
        {
            var done = await world.WaitForJobAsync(id, j => j.Status == "completed", "completed after the restart", TimeSpan.FromSeconds(60));
            Assert.Equal("success", done.Conclusion);
        }

        var runners = await world.GitHub.ListRunnersAsync(all: true);
        foreach (var id in jobs)
        {
            Assert.Single(runners, r => r.JobId == id);
        }

        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, TimeSpan.FromSeconds(60), "no VM left claimed");
        await Deadline.UntilAsync(async () => await world.GitHub.ListRunnersAsync(), rs => rs.Count == 0, TimeSpan.FromSeconds(60), "no runner registration left");
    }
}
