using Blip.Actors.Config;
using Blip.Actors.GitHub;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Actors.Shared;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Discovery: every queued job is found, matching follows the spec, mismatches are logged once.</summary>
public sealed class DiscoveryTests
{
    [Fact]
    public async Task Every_queued_job_is_found_in_queued_and_in_progress_runs_past_100_runs()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/many"], configure: false);
        var expected = new HashSet<long>();
        for (var i = 0; i < 120; i++)
        {
            expected.Add((await world.GitHub.QueueJobAsync("org/many", ["self-hosted", "blip"])).JobId);
        }

        for (var i = 0; i < 3; i++)
        {
            expected.Add((await world.GitHub.QueueJobAsync(new QueueJobRequest("org/many", ["self-hosted", "blip"], RunInProgress: true))).JobId);
        }

        var secrets = new ControllerSecrets { GitHubToken = GitHubToken.FromString(world.Sandbox.Pat) };
        var gitHub = new OctokitGitHubActions(secrets, new GitHubOptions { GitHubApiUrl = world.Sandbox.GitHub.Url.ToString() });

        var found = await gitHub.ListQueuedJobsAsync(new RepoName("org", "many"), CancellationToken.None);

        Assert.Equal(expected.Order(), found.Select(j => j.JobId).Order());
        Assert.All(found, j => Assert.Equal(["self-hosted", "blip"], j.Labels));
    }

    [Fact]
    public async Task A_queued_job_inside_an_in_progress_run_gets_a_runner()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync();

        var job = await world.GitHub.QueueJobAsync(new QueueJobRequest("org/repo", ["self-hosted", "blip"], DurationSeconds: 1, RunInProgress: true));

        var done = await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed");
        Assert.StartsWith($"blip-{job.JobId}-", done.RunnerName);
    }

    [Fact]
    public async Task A_job_queued_later_inside_a_run_already_read_whose_listing_did_not_change_gets_a_runner()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        await world.StartControllerAsync();
        var first = await world.GitHub.QueueJobAsync(new QueueJobRequest("org/repo", ["self-hosted", "blip"], DurationSeconds: 40, RunInProgress: true));
        await world.WaitForJobAsync(first.JobId, j => j.Status == "in_progress", "in progress");
        // Two more polls: discovery has read the run since its job started (no queued job left in it).
        var polls = (await world.StatsAsync()).ByEndpoint["GET /repos/{o}/{r}/actions/runs"].Total;
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint["GET /repos/{o}/{r}/actions/runs"].Total >= polls + 2, PipelineWorld.Deadline, "two more polls");

        // As a `needs:` job: queued inside the run while it stays in_progress, so the run's listing (status, updated_at) is
        // what discovery saw when it last read the run's jobs.
        var later = await world.GitHub.QueueJobAsync(new QueueJobRequest("org/repo", ["self-hosted", "blip"], DurationSeconds: 1, RunId: first.RunId));

        var done = await world.WaitForJobAsync(later.JobId, j => j.Status == "completed", "completed");
        Assert.StartsWith($"blip-{later.JobId}-", done.RunnerName);
        Assert.Equal("in_progress", (await world.GitHub.GetJobAsync(first.JobId))!.Status);
    }

    [Fact]
    public async Task A_non_matching_job_is_logged_once_and_gets_no_vm()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(200));

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted"], durationSeconds: 1);

        await Deadline.UntilAsync(() => world.Log.Contains("job labels do not match runner labels"), PipelineWorld.Deadline, "mismatch logged");
        var polls = (await world.GitHub.GetStatsAsync()).ByRepo["org/repo"].Total;
        await Deadline.UntilAsync(async () => (await world.GitHub.GetStatsAsync()).ByRepo["org/repo"].Total, n => n >= polls + 20, PipelineWorld.Deadline, "ten more polls");

        Assert.Equal(1, world.Log.Count($"job {job.JobId} (org/repo): job labels do not match runner labels"));
        Assert.Empty(world.ClaimsOf(job.JobId));
        Assert.Equal("queued", (await world.GitHub.GetJobAsync(job.JobId))!.Status);
    }

    [Fact]
    public async Task A_job_whose_labels_differ_only_in_case_is_logged_with_the_labels_and_the_fix()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(200));

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "Blip"], durationSeconds: 1);

        var line = $"job {job.JobId} (org/repo): job labels do not match runner labels: job runs-on [self-hosted,Blip], runner-labels [self-hosted,blip]; " +
                   "they differ only in case (runner label \"blip\" vs runs-on \"Blip\")";
        await Deadline.UntilAsync(() => world.Log.Contains(line), PipelineWorld.Deadline, "mismatch logged with the case hint");
        Assert.Empty(world.ClaimsOf(job.JobId));
    }
}
