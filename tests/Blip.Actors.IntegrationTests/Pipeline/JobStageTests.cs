using System.Net.Http.Json;
using System.Text.Json;
using Akka.DependencyInjection;
using Blip.Actors.Inspection;
using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Issue 16: where a job's time goes, runner started → job started → completed, learnt for free: from the poll
/// that no longer sees the job queued, or from GitHub's <c>in_progress</c> delivery.</summary>
public sealed class JobStageTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string Series = "{stage=\"{0}\",repo=\"org/repo\",labels=\"blip,self-hosted\"} ";

    [Fact]
    public async Task By_polling_alone_the_job_start_is_the_poll_that_saw_the_job_leave_the_queue()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync();

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 5);

        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed");
        var metrics = await BothStagesAsync(world);
        var view = await JobViewAsync(world, job.JobId);
        Assert.Equal("runner got a job: this job left the queue (seen by a poll)", Assert.Single(view.History, h => h.Event == "RunnerJobStarted").Detail);
        Assert.NotNull(view.JobStartedAt);
        Assert.Contains($"job {job.JobId} (org/repo): left the queue while runner blip-{job.JobId}-", string.Join("\n", world.Log.Lines));
        Assert.Contains(Count("runner_started_to_job_started") + "1\n", metrics);
        Assert.Contains(Count("job_started_to_completed") + "1\n", metrics);
    }

    [Fact]
    public async Task With_webhooks_the_job_start_is_githubs_in_progress_for_our_runner()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, webhooks: "emulator");
        // No poll after the first: only the delivery can tell the job started.
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMinutes(5));
        await Deadline.UntilAsync(() => world.Log.Contains("webhook receiver listening") && world.Log.Contains("webhook secret loaded"), PipelineWorld.Deadline, "receiver up with its secret");
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint.TryGetValue("GET /repos/{o}/{r}/actions/runs", out var runs) && runs.Total >= Blip.Actors.GitHub.DiscoveryPlan.AllStatuses.Count,
            PipelineWorld.Deadline, "the first poll (one listing per polled run status)");

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed");
        var metrics = await BothStagesAsync(world);
        var view = await JobViewAsync(world, job.JobId);
        var started = Assert.Single(view.History, h => h.Event == "RunnerJobStarted");
        Assert.Equal($"runner got a job: began running job {job.JobId}", started.Detail);
        var githubStartedAt = (await world.GitHub.GetJobAsync(job.JobId))!.StartedAt!.Value;
        // GitHub's started_at as the delivery carried it: whole seconds.
        Assert.Equal(githubStartedAt.AddTicks(-(githubStartedAt.Ticks % TimeSpan.TicksPerSecond)), view.JobStartedAt);
        Assert.Contains(world.Log.Lines, l => l.Contains($"job {job.JobId} (org/repo): runner blip-{job.JobId}-", StringComparison.Ordinal)
            && l.Contains($" began running job {job.JobId}, ", StringComparison.Ordinal));
        Assert.Contains(Count("runner_started_to_job_started") + "1\n", metrics);
        Assert.Contains(Count("job_started_to_completed") + "1\n", metrics);
    }

    private static string Count(string stage) => "blip_job_stage_duration_seconds_count" + Series.Replace("{0}", stage, StringComparison.Ordinal);

    private static Uri Endpoint(PipelineWorld world) => DependencyResolver.For(world.Controller!.ActorSystem).Resolver.GetService<ManagementEndpoint>().Address!;

    /// <summary>The job as <c>blipctl jobs show</c> reads it.</summary>
    private static async Task<JobDetailView> JobViewAsync(PipelineWorld world, long jobId) =>
        (await Http.GetFromJsonAsync<JobDetailView>(new Uri(Endpoint(world), $"/api/jobs/{jobId}"), Json))!;

    /// <summary>/metrics once the job's completion was recorded (the VM's stop after the emulator completed the job).</summary>
    private static Task<string> BothStagesAsync(PipelineWorld world)
    {
        var endpoint = Endpoint(world);
        return Deadline.UntilAsync(() => Http.GetStringAsync(new Uri(endpoint, "/metrics")),
            text => text.Contains(Count("job_started_to_completed"), StringComparison.Ordinal) && text.Contains(Count("runner_started_to_job_started"), StringComparison.Ordinal),
            PipelineWorld.Deadline, "both job-started stages on /metrics");
    }
}
