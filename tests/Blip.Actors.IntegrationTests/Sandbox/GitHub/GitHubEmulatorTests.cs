using System.Net;
using Blip.Sandbox.GitHub;
using Octokit;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>The emulator through Octokit 14, the client production uses: shapes, paging, permissions, runners.</summary>
public sealed class GitHubEmulatorTests() : EmulatorTestBase(Repo)
{
    private const string Repo = "acme/widgets";
    private static readonly string[] BlipLabels = ["self-hosted", "blip"];
    [Fact]
    public async Task The_runner_releases_are_listed_newest_first_with_their_dates_as_octokit_reads_them()
    {
        var now = DateTimeOffset.UtcNow;
        Emulator.RunnerReleases = [new("2.329.0", now.AddDays(-40)), new("2.331.0", now.AddDays(-2), Prerelease: true), new("2.330.0", now.AddDays(-25))];
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);

        var releases = await client.Repository.Release.GetAll("actions", "runner");

        Assert.Equal(["v2.331.0", "v2.330.0", "v2.329.0"], releases.Select(r => r.TagName));
        Assert.Equal([true, false, false], releases.Select(r => r.Prerelease));
        Assert.Equal(now.AddDays(-25).ToUnixTimeSeconds(), releases[1].PublishedAt!.Value.ToUnixTimeSeconds());
        // The decision the controller takes from them: 2.329.0 is 25 days into its 30-day window.
        var currency = Blip.Actors.Runners.RunnerReleases.Assess("2.329.0", releases.Select(r => new Blip.Actors.Runners.RunnerRelease(r.TagName, r.PublishedAt!.Value, r.Prerelease, r.Draft)), now)!;
        Assert.True(currency.Warn);
        Assert.Equal("2.330.0", currency.Newest);
    }

    [Fact]
    public async Task The_controller_reads_the_ten_newest_runner_releases_with_their_dates()
    {
        var now = DateTimeOffset.UtcNow;
        Emulator.RunnerReleases = Enumerable.Range(0, 12).Select(i => new SandboxRunnerRelease($"2.{320 + i}.0", now.AddDays(-5 * (12 - i)), Prerelease: i == 11)).ToList();
        var (_, token) = OctokitFor.FullAccess(Emulator, Repo);
        var secrets = new Blip.Actors.Config.ControllerSecrets { GitHubToken = Blip.Actors.Config.GitHubToken.FromString(token) };
        var controller = new Blip.Actors.GitHub.OctokitGitHubActions(secrets, new Blip.Actors.GitHub.GitHubOptions { GitHubApiUrl = Emulator.Url.ToString() });

        var releases = await controller.ListRunnerReleasesAsync(CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v2.{331 - i}.0"), releases.Select(r => r.TagName));
        Assert.Equal([true, false], releases.Take(2).Select(r => r.Prerelease));
        Assert.Equal(now.AddDays(-10).ToUnixTimeSeconds(), releases[1].PublishedAt.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task The_runner_releases_are_served_without_credentials_and_the_rest_is_not()
    {
        using var http = new HttpClient();
        using var badToken = new HttpRequestMessage(HttpMethod.Get, new Uri(Emulator.Url, "repos/actions/runner/releases"));
        badToken.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "ghp_not_a_token");

        var anonymous = await http.GetAsync(new Uri(Emulator.Url, "repos/actions/runner/releases"));
        var runs = await http.GetAsync(new Uri(Emulator.Url, $"repos/{Repo}/actions/runs"));

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.Equal("60", anonymous.Headers.GetValues("x-ratelimit-limit").Single()); // GitHub's budget without credentials
        Assert.Equal(HttpStatusCode.Unauthorized, runs.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(badToken)).StatusCode);
    }

    [Fact]
    public async Task A_run_pending_on_its_concurrency_group_has_no_queued_job_until_the_group_frees()
    {
        var active = await Admin.QueueJobAsync(new QueueJobRequest(Repo, BlipLabels, DurationSeconds: 60, ConcurrencyGroup: "deploy"));
        var superseded = await Admin.QueueJobAsync(new QueueJobRequest(Repo, BlipLabels, ConcurrencyGroup: "Deploy"));
        var pending = await Admin.QueueJobAsync(new QueueJobRequest(Repo, BlipLabels, ConcurrencyGroup: "deploy"));
        var (client, token) = OctokitFor.FullAccess(Emulator, Repo);
        var secrets = new Blip.Actors.Config.ControllerSecrets { GitHubToken = Blip.Actors.Config.GitHubToken.FromString(token) };
        var controller = new Blip.Actors.GitHub.OctokitGitHubActions(secrets, new Blip.Actors.GitHub.GitHubOptions { GitHubApiUrl = Emulator.Url.ToString() });
        var repo = new Blip.Actors.Shared.RepoName("acme", "widgets");

        // GitHub: at most one running and one pending run per group (case-insensitive); a newer pending run cancels the older.
        Assert.Equal("pending", (await client.Actions.Workflows.Runs.Get("acme", "widgets", pending.RunId)).Status.StringValue);
        Assert.Equal("pending", (await client.Actions.Workflows.Jobs.Get("acme", "widgets", pending.JobId)).Status.StringValue);
        var cancelled = await client.Actions.Workflows.Runs.Get("acme", "widgets", superseded.RunId);
        Assert.Equal(("completed", "cancelled"), (cancelled.Status.StringValue, cancelled.Conclusion?.StringValue));
        Assert.Equal([active.JobId], (await controller.ListQueuedJobsAsync(repo, CancellationToken.None)).Select(j => j.JobId));

        await Admin.CancelJobAsync(active.JobId);

        Assert.Equal("queued", (await client.Actions.Workflows.Runs.Get("acme", "widgets", pending.RunId)).Status.StringValue);
        Assert.Equal([pending.JobId], (await controller.ListQueuedJobsAsync(repo, CancellationToken.None)).Select(j => j.JobId));
    }

    [Fact]
    public async Task Listing_queued_runs_pages_past_100_and_finds_every_run()
    {
        var queued = new HashSet<long>();
        for (var i = 0; i < 150; i++)
        {
            queued.Add((await Admin.QueueJobAsync(Repo, BlipLabels)).RunId);
        }

        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);

        var runs = await client.Actions.Workflows.Runs.List("acme", "widgets",
            new WorkflowRunsRequest { Status = CheckRunStatusFilter.Queued }, new ApiOptions { PageSize = 100 });

        Assert.Equal(150, runs.TotalCount);
        Assert.Equal(queued, runs.WorkflowRuns.Select(r => r.Id).ToHashSet());
        Assert.All(runs.WorkflowRuns, r => Assert.Equal("queued", r.Status.StringValue));
        var stats = await Admin.GetStatsAsync();
        Assert.Equal(2, stats.ByEndpoint["GET /repos/{o}/{r}/actions/runs"].ByStatus["200"]);
    }

    [Fact]
    public async Task Status_filter_separates_queued_from_in_progress_runs()
    {
        var plain = await Admin.QueueJobAsync(Repo, BlipLabels);
        var needs = await Admin.QueueJobAsync(new QueueJobRequest(Repo, BlipLabels, RunInProgress: true));
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);

        var queuedRuns = await client.Actions.Workflows.Runs.List("acme", "widgets", new WorkflowRunsRequest { Status = CheckRunStatusFilter.Queued });
        var inProgressRuns = await client.Actions.Workflows.Runs.List("acme", "widgets", new WorkflowRunsRequest { Status = CheckRunStatusFilter.InProgress });

        Assert.Equal([plain.RunId], queuedRuns.WorkflowRuns.Select(r => r.Id));
        Assert.Equal([needs.RunId], inProgressRuns.WorkflowRuns.Select(r => r.Id));
        // The queued job sits inside the in_progress run, after a finished one.
        var jobs = await client.Actions.Workflows.Jobs.List("acme", "widgets", needs.RunId, new WorkflowRunJobsRequest { Filter = WorkflowRunJobsFilter.Latest });
        Assert.Equal(["completed", "queued"], jobs.Jobs.Select(j => j.Status.StringValue));
        Assert.Equal(needs.JobId, jobs.Jobs[1].Id);
    }

    [Fact]
    public async Task Jobs_of_a_run_and_a_single_job_carry_labels_status_and_run()
    {
        var first = await Admin.QueueJobAsync(Repo, ["self-hosted", "blip", "gpu"]);
        var second = await Admin.QueueJobAsync(new QueueJobRequest(Repo, BlipLabels, RunId: first.RunId));
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);

        var jobs = await client.Actions.Workflows.Jobs.List("acme", "widgets", first.RunId, new WorkflowRunJobsRequest { Filter = WorkflowRunJobsFilter.Latest });
        var job = await client.Actions.Workflows.Jobs.Get("acme", "widgets", first.JobId);

        Assert.Equal(2, jobs.TotalCount);
        Assert.Equal([first.JobId, second.JobId], jobs.Jobs.Select(j => j.Id));
        Assert.Equal(first.JobId, job.Id);
        Assert.Equal(first.RunId, job.RunId);
        Assert.Equal(["self-hosted", "blip", "gpu"], job.Labels);
        Assert.Equal("queued", job.Status.StringValue);
        Assert.Null(job.RunnerName);
    }

    [Fact]
    public async Task Generate_jitconfig_registers_an_offline_runner_that_can_be_listed_and_deleted()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);

        var response = await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-runner-1", BlipLabels);

        Assert.Equal(HttpStatusCode.Created, response.HttpResponse.StatusCode);
        var runner = response.Body.Runner;
        Assert.True(runner.Id > 0);
        Assert.Equal("blip-runner-1", runner.Name);
        Assert.False(string.IsNullOrEmpty(response.Body.EncodedJitConfig));
        Assert.Equal(BlipLabels, runner.Labels.Select(l => l.Name));

        var listed = await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "widgets");
        var only = Assert.Single(listed.Runners);
        Assert.Equal(runner.Id, only.Id);
        Assert.Equal("offline", only.Status);
        Assert.False(only.Busy);

        await client.Actions.SelfHostedRunners.DeleteRepositoryRunner("acme", "widgets", runner.Id);
        Assert.Empty((await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "widgets")).Runners);
        var ever = Assert.Single(await Admin.ListRunnersAsync(all: true));
        Assert.NotNull(ever.RemovedAt);
        Assert.Contains(response.Body.EncodedJitConfig, (await Admin.GetSecretsAsync()).JitConfigs);
    }

    [Fact]
    public async Task A_duplicate_runner_name_is_refused_with_409_already_exists()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-dup", BlipLabels);

        var e = await Assert.ThrowsAsync<ApiException>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-dup", BlipLabels));

        Assert.Equal(HttpStatusCode.Conflict, e.StatusCode);
        Assert.StartsWith("Already exists - A runner with the name blip-dup already exists.", e.Message);
    }

    [Fact]
    public async Task Generate_jitconfig_without_labels_is_a_validation_failure()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);

        var e = await Assert.ThrowsAsync<ApiValidationException>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-nolabels"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
    }

    [Fact]
    public async Task A_pat_without_administration_write_lists_runs_but_is_refused_at_generate_jitconfig()
    {
        await Admin.QueueJobAsync(Repo, BlipLabels);
        var token = await Admin.CreateTokenAsync(new CreateTokenRequest([Repo], Actions: "read", Administration: "read"));
        var client = OctokitFor.Token(Emulator, token);

        var runs = await client.Actions.Workflows.Runs.List("acme", "widgets", new WorkflowRunsRequest { Status = CheckRunStatusFilter.Queued });
        var e = await Assert.ThrowsAsync<ForbiddenException>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-x", BlipLabels));

        Assert.Equal(1, runs.TotalCount);
        Assert.Equal("Resource not accessible by personal access token", e.Message);
        Assert.Empty(await Admin.ListRunnersAsync(all: true));
    }

    [Fact]
    public async Task A_pat_without_actions_read_cannot_list_runs()
    {
        var token = await Admin.CreateTokenAsync(new CreateTokenRequest([Repo], Actions: "none", Administration: "write"));
        var client = OctokitFor.Token(Emulator, token, AuthenticationType.Bearer);

        await Assert.ThrowsAsync<ForbiddenException>(() => client.Actions.Workflows.Runs.List("acme", "widgets"));
    }

    [Fact]
    public async Task A_repo_outside_the_pat_or_unknown_is_not_found()
    {
        await Admin.QueueJobAsync("acme/secret", BlipLabels);
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);

        await Assert.ThrowsAsync<NotFoundException>(() => client.Actions.Workflows.Runs.List("acme", "secret"));
        await Assert.ThrowsAsync<NotFoundException>(() => client.Actions.Workflows.Runs.List("acme", "nowhere"));
    }

    [Fact]
    public async Task An_unknown_token_gets_401_bad_credentials()
    {
        var client = OctokitFor.Token(Emulator, "ghp_not_a_token_we_issued", AuthenticationType.Bearer);

        var e = await Assert.ThrowsAsync<AuthorizationException>(() => client.Actions.Workflows.Runs.List("acme", "widgets"));

        Assert.Equal("Bad credentials", e.Message);
        Assert.Equal(0, (await Admin.GetStatsAsync()).Counted);
    }

    [Fact]
    public async Task Listing_runners_pages_with_link_headers()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        for (var i = 0; i < 35; i++)
        {
            await OctokitFor.GenerateJitConfigAsync(client, Repo, $"blip-page-{i}", BlipLabels);
        }

        var all = await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "widgets", new ApiOptions { PageSize = 10 });

        Assert.Equal(35, all.Runners.Count);
        Assert.Equal(35, all.Runners.Select(r => r.Name).Distinct().Count());
    }
}
