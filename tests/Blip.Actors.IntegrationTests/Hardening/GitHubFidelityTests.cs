using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>
/// What real GitHub sends that the easy path never shows (issue 14): jobs waiting for approval, runs in statuses other
/// than queued and in_progress, enum values Octokit does not know. On the sandbox, through Octokit and the receiver.
/// </summary>
public sealed class GitHubFidelityTests
{
    private const string Runs = "GET /repos/{o}/{r}/actions/runs";
    private static readonly string[] Labels = ["self-hosted", "blip"];

    [Fact]
    public async Task A_job_delivered_queued_but_waiting_for_approval_gets_no_vm_until_it_is_approved()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2, webhooks: "emulator");
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMinutes(5));
        await Deadline.UntilAsync(() => world.Log.Contains("webhook receiver listening") && world.Log.Contains("webhook secret loaded"), PipelineWorld.Deadline, "receiver up with its secret");

        var gated = await world.GitHub.QueueJobAsync(new QueueJobRequest("org/repo", Labels, 1, Waiting: true));
        // Two deliveries: action queued with status waiting, then action waiting; each answered after the receiver acted on it.
        await Deadline.UntilAsync(() => world.Sandbox.GitHub.WebhooksDelivered >= 2, PipelineWorld.Deadline, "both deliveries of the gated job answered");
        // A job queued after it is served through the same receiver; by then the gated job's delivery has long been acted on.
        var plain = await world.GitHub.QueueJobAsync("org/repo", Labels, durationSeconds: 1);
        await world.WaitForJobAsync(plain.JobId, j => j.Status == "completed", "the plain job served");
        Assert.Empty(world.ClaimsOf(gated.JobId));
        Assert.Equal("waiting", (await world.GitHub.GetJobAsync(gated.JobId))!.Status);

        await world.GitHub.ApproveJobAsync(gated.JobId);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, [gated.JobId, plain.JobId]);
        Assert.Single(world.ClaimsOf(gated.JobId));
    }

    [Fact]
    public async Task A_queued_job_inside_a_run_that_waits_for_approval_of_another_job_is_found_by_polling()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var gated = await world.GitHub.QueueJobAsync(new QueueJobRequest("org/repo", Labels, 1, Waiting: true, Name: "deploy"));
        var free = await world.GitHub.QueueJobAsync(new QueueJobRequest("org/repo", Labels, 1, RunId: gated.RunId, Name: "test"));
        await world.StartControllerAsync();

        await world.WaitForJobAsync(free.JobId, j => j.Status == "completed", "the queued job of the waiting run served", EndState.Long);
        Assert.Empty(world.ClaimsOf(gated.JobId));

        await world.GitHub.ApproveJobAsync(gated.JobId);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, [gated.JobId, free.JobId]);
    }

    [Fact]
    public async Task Runs_whose_actor_type_and_visibility_octokit_does_not_know_are_still_read()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var jobs = await EndState.QueueAsync(world, 2);
        await world.GitHub.SetFaultsAsync(new SandboxFaults([new EndpointFault(Runs, Corrupt: ReplyCorruption.UnknownEnums)]));
        await world.StartControllerAsync();

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("polling failed"));
    }
}
