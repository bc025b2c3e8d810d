using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>The invariants every hardening test ends with.</summary>
public static class EndState
{
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    public static async Task<List<long>> QueueAsync(PipelineWorld world, int count, int durationSeconds = 1, string repo = "org/repo")
    {
        var jobs = new List<long>();
        for (var i = 0; i < count; i++)
        {
            jobs.Add((await world.GitHub.QueueJobAsync(repo, ["self-hosted", "blip"], durationSeconds)).JobId);
        }

        return jobs;
    }

    /// <summary>Every job completed, each run by exactly one runner; no VM left claimed; no runner registration left.</summary>
    public static async Task AssertEveryJobServedOnceAndNothingLeftAsync(PipelineWorld world, IReadOnlyList<long> jobs)
    {
        foreach (var id in jobs)
        {
            var job = await world.WaitForJobAsync(id, j => j.Status == "completed", "completed despite the faults", Long);
            Assert.Equal("success", job.Conclusion);
        }

        var runners = await world.GitHub.ListRunnersAsync(all: true);
        foreach (var id in jobs)
        {
            Assert.Single(runners, r => r.JobId == id);
        }

        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, Long, "no VM left claimed");
        await Deadline.UntilAsync(async () => await world.GitHub.ListRunnersAsync(), rs => rs.Count == 0, Long, "no runner registration left");
    }
}
