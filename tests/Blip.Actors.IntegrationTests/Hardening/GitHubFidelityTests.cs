using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;
using k8s;
using Octokit;
using Octokit.Internal;

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

    [Fact]
    public async Task A_redelivery_of_a_delivery_refused_before_the_repo_was_configured_is_acted_on()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, webhooks: "emulator");
        // Polling cannot find the job: every runs listing fails. Only the webhook path can serve it.
        await world.GitHub.SetFaultsAsync(new SandboxFaults([new EndpointFault(Runs, Status: 503)]));
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMinutes(5));
        await Deadline.UntilAsync(() => world.Log.Contains("webhook receiver listening") && world.Log.Contains("webhook secret loaded"), PipelineWorld.Deadline, "receiver up with its secret");

        var job = await world.GitHub.QueueJobAsync("org/later", Labels, durationSeconds: 1);
        var refused = await Deadline.UntilAsync(() => world.GitHub.ListDeliveriesAsync(), ds => ds.Any(d => d.Status is not null), PipelineWorld.Deadline, "the delivery answered");
        Assert.Equal(404, refused.Single().Status);

        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/repo,org/later");
        await Deadline.UntilAsync(() => world.Log.Contains("repo org/later: polling failed"), PipelineWorld.Deadline, "org/later configured");
        await world.GitHub.RedeliverAsync(refused.Single().Guid);

        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "served from the redelivery");
        Assert.Single(world.ClaimsOf(job.JobId));
        Assert.Contains(await world.GitHub.ListDeliveriesAsync(), d => d.Guid == refused.Single().Guid && d.Redelivery && d.Status == 200);
    }

    [Fact]
    public async Task A_repo_configured_as_Acme_API_takes_deliveries_and_listings_that_github_names_acme_api()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2, repos: ["acme/api"], configure: false, webhooks: "emulator");
        await world.Sandbox.WritePatAsync(world.Sandbox.Pat);
        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "Acme/API");
        var polled = await world.GitHub.QueueJobAsync("acme/api", Labels, durationSeconds: 1);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMinutes(5));

        // Found by the first poll (GitHub answers for Acme/API in its own spelling, acme/api)...
        await world.WaitForJobAsync(polled.JobId, j => j.Status == "completed", "the job found by polling served");
        // ...and one queued after it, by its delivery naming acme/api.
        var delivered = await world.GitHub.QueueJobAsync("acme/api", Labels, durationSeconds: 1);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, [polled.JobId, delivered.JobId]);
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("is not configured"));
    }

    [Fact]
    public async Task An_orphaned_registration_of_ours_is_deleted_after_the_grace_and_others_are_left_alone_at_no_cost_when_idle()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var octokit = new Connection(new ProductHeaderValue("blip-tests"), world.Sandbox.GitHub.Url, new InMemoryCredentialStore(new Credentials(world.Sandbox.Pat)));
        async Task<long> RegisterAsync(string name)
        {
            var body = new Dictionary<string, object> { ["name"] = name, ["runner_group_id"] = 1, ["labels"] = Labels };
            var reply = await octokit.Post<Dictionary<string, object>>(new Uri("repos/org/repo/actions/runners/generate-jitconfig", UriKind.Relative), body, "application/vnd.github+json", "application/json");
            return Convert.ToInt64(((IDictionary<string, object>)reply.Body["runner"])["id"], System.Globalization.CultureInfo.InvariantCulture);
        }

        await RegisterAsync("blip-999-orphan");
        await RegisterAsync("someone-elses-runner");
        await world.StartControllerAsync(o =>
        {
            o.RunnerSweepInterval = TimeSpan.FromSeconds(1);
            o.OrphanRunnerGrace = TimeSpan.FromSeconds(3);
        });
        // A job runs meanwhile: its runner, busy or on its way, is never taken for an orphan.
        var job = (await EndState.QueueAsync(world, 1, durationSeconds: 4))[0];

        await Deadline.UntilAsync(async () => await world.GitHub.ListRunnersAsync(), rs => rs.All(r => r.Name != "blip-999-orphan"), EndState.Long, "the orphan deleted");
        var done = await world.WaitForJobAsync(job, j => j.Status == "completed", "the job served", EndState.Long);
        Assert.Equal("success", done.Conclusion);
        Assert.Single(await world.GitHub.ListRunnersAsync(), r => r.Name == "someone-elses-runner");
        Assert.Equal(1, world.Log.Count("runner blip-999-orphan (org/repo): deleted an orphaned registration"));

        // Idle: more sweeps, each a conditional GET answered 304, none charged.
        const string ListRunners = "GET /repos/{o}/{r}/actions/runners";
        await Deadline.UntilAsync(async () => await world.GitHub.ListRunnersAsync(), rs => rs.Count == 1, EndState.Long, "only the foreign runner left");
        var idle = (await world.StatsAsync()).ByEndpoint[ListRunners];
        var later = await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint[ListRunners].Total >= idle.Total + 3, EndState.Long, "three more sweeps");
        Assert.True(later.ByEndpoint[ListRunners].Counted - idle.Counted <= 1, "an idle sweep was charged");
    }

    [Fact]
    public async Task A_job_whose_vm_is_deleted_mid_run_fails_as_on_github_and_nothing_is_left_behind()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.GitHub.SetSettingsAsync(new SandboxSettings(LostRunnerSeconds: 3));
        await world.StartControllerAsync(o =>
        {
            o.RunnerSweepInterval = TimeSpan.FromSeconds(1);
            o.OrphanRunnerGrace = TimeSpan.FromSeconds(3);
        });
        var job = (await EndState.QueueAsync(world, 1, durationSeconds: 120))[0];
        await world.WaitForJobAsync(job, j => j.Status == "in_progress", "running", EndState.Long);
        var vm = Assert.Single(await world.ClaimedVmsAsync());

        await world.Sandbox.KubeAdmin.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", world.Sandbox.Namespace, "virtualmachines", vm);

        var failed = await world.WaitForJobAsync(job, j => j.Status == "completed", "failed after its runner went silent", EndState.Long);
        Assert.Equal("failure", failed.Conclusion);
        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, EndState.Long, "no VM left claimed");
        await Deadline.UntilAsync(async () => await world.GitHub.ListRunnersAsync(), rs => rs.Count == 0, EndState.Long, "no runner registration left");
    }

    [Fact]
    public async Task A_ping_or_a_delivery_for_another_repo_does_not_slow_polling_to_the_backstop()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, webhooks: "emulator");
        await world.StartControllerAsync(o => o.PollIntervalWithWebhooks = TimeSpan.FromMinutes(10));
        await Deadline.UntilAsync(() => world.Log.Contains("webhook receiver listening") && world.Log.Contains("webhook secret loaded"), PipelineWorld.Deadline, "receiver up with its secret");

        await world.GitHub.SendEventAsync(new SendEventRequest("ping", "org/repo"));
        await world.GitHub.SendEventAsync(new SendEventRequest("push", "org/repo"));
        await world.GitHub.QueueJobAsync("org/elsewhere", Labels, durationSeconds: 1); // a workflow_job delivery, repo not configured
        var answered = await Deadline.UntilAsync(() => world.GitHub.ListDeliveriesAsync(), ds => ds.Count == 3 && ds.All(d => d.Status is not null), PipelineWorld.Deadline, "three deliveries answered");
        Assert.Equal([200, 202, 404], answered.Select(d => d.Status!.Value).Order());

        // Polling keeps its own pace (every 500 ms), not the 10-minute backstop: three more polls come (each lists the queued
        // runs at least).
        var before = (await world.StatsAsync()).ByEndpoint[Runs].Total;
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint[Runs].Total >= before + 3, PipelineWorld.Deadline, "three more polls");
    }

    [Fact]
    public async Task A_runner_delete_answered_422_for_another_reason_than_a_running_job_is_a_failure_not_busy()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, configure: false);
        var secrets = new Blip.Actors.Config.ControllerSecrets { GitHubToken = Blip.Actors.Config.GitHubToken.FromString(world.Sandbox.Pat) };
        var gitHub = new Blip.Actors.GitHub.OctokitGitHubActions(secrets, new Blip.Actors.GitHub.GitHubOptions { GitHubApiUrl = world.Sandbox.GitHub.Url.ToString() });
        var repo = new Blip.Actors.Shared.RepoName("org", "repo");
        var runner = await gitHub.GenerateJitConfigAsync(repo, "blip-1-x", Labels, CancellationToken.None);
        await world.GitHub.SetFaultsAsync(new SandboxFaults([new EndpointFault("DELETE /repos/{o}/{r}/actions/runners/{runner_id}", FailCount: 1, Status: 422)]));

        var error = await Assert.ThrowsAsync<Blip.Actors.Runners.GitHubCallException>(() => gitHub.DeleteRunnerAsync(repo, runner.RunnerId, CancellationToken.None));

        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, error.Status);
        Assert.Equal(Blip.Actors.Runners.DeleteRunnerOutcome.Deleted, await gitHub.DeleteRunnerAsync(repo, runner.RunnerId, CancellationToken.None));

        // A runner really at work: GitHub's 422 says so, and that is busy.
        var working = await gitHub.GenerateJitConfigAsync(repo, "blip-2-x", Labels, CancellationToken.None);
        var jit = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(working.Config.Value)).Split(' ');
        using var http = new HttpClient { BaseAddress = world.Sandbox.GitHub.Url };
        var session = (await (await http.PostAsync("_runner/redeem", new StringContent($"{jit[2]} {jit[3]}"))).Content.ReadAsStringAsync()).Split(' ')[0];
        await world.GitHub.QueueJobAsync("org/repo", Labels, durationSeconds: 60);
        Assert.StartsWith("job ", await (await http.PostAsync("_runner/acquire", new StringContent(session))).Content.ReadAsStringAsync());
        Assert.Equal(Blip.Actors.Runners.DeleteRunnerOutcome.Busy, await gitHub.DeleteRunnerAsync(repo, working.RunnerId, CancellationToken.None));
    }

    [Fact]
    public async Task A_repo_with_more_queued_runs_than_githubs_listing_cap_is_named_once()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        for (var i = 0; i < 1001; i++)
        {
            await world.GitHub.QueueJobAsync("org/repo", ["elsewhere"], durationSeconds: 1);
        }

        await world.StartControllerAsync();

        await Deadline.UntilAsync(() => world.Log.Contains("repo org/repo: GitHub lists at most 1000 runs with status queued"), EndState.Long, "the cap named");
        var runs = (await world.StatsAsync()).ByEndpoint[Runs].Total;
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint[Runs].Total >= runs + 1, EndState.Long, "another listing");
        Assert.Equal(1, world.Log.Count("GitHub lists at most 1000 runs with status queued"));
    }
}
