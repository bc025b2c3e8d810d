using System.Net;
using System.Runtime.Serialization;
using System.Text.Json;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>Corrupted success replies (<see cref="EndpointFault.Corrupt"/>), as Octokit 14 sees them.</summary>
public sealed class ReplyCorruptionTests() : EmulatorTestBase(Repo)
{
    private const string Repo = "acme/spoiled";
    private const string RunsEndpoint = "GET /repos/{o}/{r}/actions/runs";
    private const string JobsEndpoint = "GET /repos/{o}/{r}/actions/runs/{run_id}/jobs";
    private const string RunnersEndpoint = "GET /repos/{o}/{r}/actions/runners";
    [Fact]
    public async Task Invalid_json_keeps_200_and_application_json_and_octokit_throws_a_serialization_exception()
    {
        var queued = await Admin.QueueJobAsync(Repo, ["self-hosted"]);
        var (client, token) = OctokitFor.FullAccess(Emulator, Repo);
        await Admin.SetFaultsAsync(new SandboxFaults([new EndpointFault(RunsEndpoint, FailCount: 2, Corrupt: ReplyCorruption.InvalidJson)]));

        using var raw = await GetAsync(token, "repos/acme/spoiled/actions/runs");
        var failed = await Assert.ThrowsAsync<SerializationException>(() => client.Actions.Workflows.Runs.List("acme", "spoiled"));
        var healed = await client.Actions.Workflows.Runs.List("acme", "spoiled");

        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal("application/json", raw.Content.Headers.ContentType?.MediaType);
        await Assert.ThrowsAnyAsync<JsonException>(async () => JsonDocument.Parse(await raw.Content.ReadAsStringAsync()));
        Assert.Equal("Invalid JSON string", failed.Message);
        Assert.Equal([queued.RunId], healed.WorkflowRuns.Select(r => r.Id));
        Assert.Equal(3, (await Admin.GetStatsAsync()).ByEndpoint[RunsEndpoint].ByStatus["200"]);
    }

    [Fact]
    public async Task Missing_fields_take_the_id_labels_and_status_from_jobs_in_turn()
    {
        var first = await Admin.QueueJobAsync(Repo, ["self-hosted"]);
        var second = await Admin.QueueJobAsync(new QueueJobRequest(Repo, ["self-hosted"], RunId: first.RunId));
        var third = await Admin.QueueJobAsync(new QueueJobRequest(Repo, ["self-hosted"], RunId: first.RunId));
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        await Admin.SetFaultsAsync(new SandboxFaults([new EndpointFault(JobsEndpoint, FailCount: 1, Corrupt: ReplyCorruption.MissingFields)]));

        var jobs = (await client.Actions.Workflows.Jobs.List("acme", "spoiled", first.RunId)).Jobs;

        Assert.Equal([0, second.JobId, third.JobId], jobs.Select(j => j.Id));
        Assert.Equal(["self-hosted"], jobs[0].Labels);
        Assert.Null(jobs[1].Labels);
        Assert.Equal("queued", jobs[1].Status.StringValue);
        Assert.Null(jobs[2].Status.StringValue);
        Assert.All(jobs, j => Assert.Equal(first.RunId, j.RunId));
    }

    [Fact]
    public async Task Missing_fields_take_a_runs_id_and_a_runners_name()
    {
        await Admin.QueueJobAsync(Repo, ["self-hosted"]);
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-named", "self-hosted");
        await Admin.SetFaultsAsync(new SandboxFaults([
            new EndpointFault(RunsEndpoint, FailCount: 1, Corrupt: ReplyCorruption.MissingFields),
            new EndpointFault(RunnersEndpoint, FailCount: 1, Corrupt: ReplyCorruption.MissingFields)]));

        var run = Assert.Single((await client.Actions.Workflows.Runs.List("acme", "spoiled")).WorkflowRuns);
        var runner = Assert.Single((await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "spoiled")).Runners);

        Assert.Equal(0, run.Id);
        Assert.Equal("queued", run.Status.StringValue); // everything else is still there
        Assert.Null(runner.Name);
        Assert.NotEqual(0, runner.Id);
    }

    [Fact]
    public async Task Unknown_enums_reach_octokit_as_strings_that_do_not_parse()
    {
        var queued = await Admin.QueueJobAsync(Repo, ["self-hosted"]);
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        await Admin.SetFaultsAsync(new SandboxFaults([new EndpointFault(JobsEndpoint, FailCount: 1, Corrupt: ReplyCorruption.UnknownEnums)]));

        var job = Assert.Single((await client.Actions.Workflows.Jobs.List("acme", "spoiled", queued.RunId)).Jobs);
        var again = Assert.Single((await client.Actions.Workflows.Jobs.List("acme", "spoiled", queued.RunId)).Jobs);

        Assert.Equal("waiting_for_moon", job.Status.StringValue);
        Assert.False(job.Status.TryParse(out _));
        Assert.Throws<ArgumentException>(() => job.Status.Value);
        Assert.Equal("eclipsed", job.Conclusion?.StringValue);
        Assert.Equal("queued", again.Status.StringValue);
    }

    [Fact]
    public async Task A_huge_page_ignores_per_page_and_holds_thousands_of_items_in_megabytes()
    {
        var queued = await Admin.QueueJobAsync(Repo, ["self-hosted"]);
        await Admin.QueueJobAsync(Repo, ["self-hosted"]);
        var (_, token) = OctokitFor.FullAccess(Emulator, Repo);
        await Admin.SetFaultsAsync(new SandboxFaults([new EndpointFault("*", FailCount: 2, Corrupt: ReplyCorruption.HugePage)]));

        using var runs = await GetAsync(token, "repos/acme/spoiled/actions/runs?per_page=10&page=3");
        using var jobs = await GetAsync(token, $"repos/acme/spoiled/actions/runs/{queued.RunId}/jobs?per_page=10");
        using var normal = await GetAsync(token, "repos/acme/spoiled/actions/runs?per_page=1");

        var runsBody = await runs.Content.ReadAsByteArrayAsync();
        using var runsJson = JsonDocument.Parse(runsBody);
        using var jobsJson = JsonDocument.Parse(await jobs.Content.ReadAsStringAsync());
        using var normalJson = JsonDocument.Parse(await normal.Content.ReadAsStringAsync());
        Assert.Equal(ReplyCorruptionSizes.HugePageItems, runsJson.RootElement.GetProperty("workflow_runs").GetArrayLength());
        Assert.True(runsBody.Length > 4_000_000, $"{runsBody.Length} bytes");
        Assert.False(runs.Headers.Contains("Link"));
        Assert.Equal(2, runsJson.RootElement.GetProperty("total_count").GetInt32());
        Assert.Equal(ReplyCorruptionSizes.HugePageItems, jobsJson.RootElement.GetProperty("jobs").GetArrayLength());
        Assert.Equal(1, normalJson.RootElement.GetProperty("workflow_runs").GetArrayLength());
        Assert.True(normal.Headers.Contains("Link"));
    }

    [Fact]
    public async Task A_corruption_is_set_by_name_through_the_admin_api_and_an_unknown_kind_is_refused()
    {
        using var http = new HttpClient { BaseAddress = Emulator.Url };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Emulator.AdminToken);

        using var good = await http.PutAsync("_sandbox/faults", Body("""{"endpoints":[{"endpoint":"*","failCount":1,"corrupt":"UnknownEnums"}]}"""));
        using var bad = await http.PutAsync("_sandbox/faults", Body("""{"endpoints":[{"endpoint":"*","corrupt":"Sideways"}]}"""));

        Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        static StringContent Body(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
    }

    private async Task<HttpResponseMessage> GetAsync(string token, string path)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Emulator.Url, path));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
