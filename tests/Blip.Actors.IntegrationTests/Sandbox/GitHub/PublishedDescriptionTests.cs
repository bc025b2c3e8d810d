using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Sandbox.GitHub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>
/// The emulator's replies for the endpoints the controller calls, and its <c>workflow_job</c> deliveries, checked
/// against GitHub's own published descriptions (see <see cref="PublishedDescriptions"/>; installed by .ci/prereqs).
/// One scenario walks a job through every state over real HTTP: queued, waiting for approval, in progress on a runner
/// redeemed through the emulator's runner protocol, completed; plus the error replies the controller reads (409, 422).
/// Only normal replies: <see cref="EndpointFault.Corrupt"/> replies are invalid on purpose.
/// </summary>
public sealed class PublishedDescriptionTests : IAsyncLifetime
{
    private const string Repo = "acme/widgets";
    private const string Base = "/repos/{owner}/{repo}";
    private static readonly string[] Labels = ["self-hosted", "blip"];
    private readonly ConcurrentQueue<JsonElement> _deliveries = new();
    private WebApplication _receiver = null!;

    private sealed record Reply(string Method, string Path, int Status, JsonElement? Body);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext http) =>
        {
            if (http.Request.Headers["X-GitHub-Event"] == "workflow_job")
            {
                _deliveries.Enqueue(await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body));
            }

            return Results.Ok();
        });
        await _receiver.StartAsync();
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Every_reply_the_controller_reads_validates_against_githubs_rest_description()
    {
        var descriptions = PublishedDescriptions.Instance;

        var replies = await RunScenarioAsync();

        var violations = new List<string>();
        foreach (var reply in replies.Where(r => r.Body is not null))
        {
            var schema = descriptions.ResponseSchema(reply.Method, reply.Path, reply.Status);
            violations.AddRange(PublishedDescriptions.Violations(schema, reply.Body!.Value).Select(v => $"{reply.Method} {reply.Path} {reply.Status}: {v}"));
        }

        Assert.True(violations.Count == 0, $"against @octokit/openapi {descriptions.OpenApiVersion}:\n" + string.Join("\n", violations.Distinct().Take(40)));
        // The schemas bite: a runner without id, status and busy, and a null where GitHub never sends one, are refused.
        Assert.NotEmpty(PublishedDescriptions.Violations(
            descriptions.ResponseSchema("GET", $"{Base}/actions/runners/{{runner_id}}", 200),
            JsonSerializer.Deserialize<JsonElement>("""{"name": "blip-1-a", "os": "linux", "labels": null}""")));
        // The scenario reached every reply it means to check.
        Assert.Equal(
            ["DELETE 204", "DELETE 422", "GET 200", "POST 201", "POST 409", "POST 422"],
            replies.Select(r => $"{r.Method} {r.Status}").Distinct().Order(StringComparer.Ordinal));
        foreach (var status in new[] { "in_progress", "pending" })
        {
            Assert.Contains(replies, r => r.Path.EndsWith("/jobs", StringComparison.Ordinal) && r.Body!.Value.GetProperty("jobs").EnumerateArray()
                .Any(j => j.GetProperty("status").GetString() == status));
        }
    }

    [Fact]
    public async Task Every_workflow_job_delivery_validates_against_githubs_webhook_schema()
    {
        var descriptions = PublishedDescriptions.Instance;

        await RunScenarioAsync();

        var violations = new List<string>();
        var actions = new List<string>();
        foreach (var delivery in _deliveries)
        {
            var action = delivery.GetProperty("action").GetString()!;
            actions.Add($"{action}/{delivery.GetProperty("workflow_job").GetProperty("status").GetString()}");
            violations.AddRange(PublishedDescriptions.Violations(descriptions.WorkflowJobSchema(action), delivery).Select(v => $"{action}: {v}"));
        }

        Assert.True(violations.Count == 0, $"against @octokit/webhooks-schemas {descriptions.WebhooksVersion}:\n" + string.Join("\n", violations.Distinct().Take(40)));
        // The schema bites: a delivery with a field GitHub does not send is refused (additionalProperties: false).
        var extra = JsonNode.Parse(_deliveries.First().GetRawText())!;
        extra["workflow_job"]!["blip"] = true;
        Assert.NotEmpty(PublishedDescriptions.Violations(descriptions.WorkflowJobSchema("queued"), JsonSerializer.SerializeToElement(extra)));
        Assert.Equal(
            ["completed/completed", "in_progress/in_progress", "queued/queued", "queued/waiting", "waiting/waiting"],
            actions.Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_github_app_endpoints_answer_as_githubs_rest_description_says_and_check_the_jwt()
    {
        var descriptions = PublishedDescriptions.Instance;
        await using var emulator = await GitHubEmulator.StartAsync(new GitHubEmulatorOptions { Repos = [Repo] });
        var app = emulator.CreateApp(new CreateAppRequest([Repo]));
        using var key = System.Security.Cryptography.RSA.Create();
        key.ImportFromPem(app.PrivateKeyPem);
        using var http = new HttpClient { BaseAddress = emulator.Url };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("blip-tests");

        async Task<(int Status, JsonElement Body)> Send(HttpMethod method, string path, string jwt)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Post ? new StringContent("{}", Encoding.UTF8, "application/json") : null };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync()));
        }

        var jwt = Blip.Actors.GitHub.AppJwt.Create(app.AppId.ToString(System.Globalization.CultureInfo.InvariantCulture), key, DateTimeOffset.UtcNow);
        var installation = await Send(HttpMethod.Get, $"repos/{Repo}/installation", jwt);
        var token = await Send(HttpMethod.Post, $"app/installations/{app.InstallationId}/access_tokens", jwt);
        var byClientId = await Send(HttpMethod.Get, $"repos/{Repo}/installation", Blip.Actors.GitHub.AppJwt.Create(app.ClientId, key, DateTimeOffset.UtcNow));
        var expired = await Send(HttpMethod.Get, $"repos/{Repo}/installation", Blip.Actors.GitHub.AppJwt.Create(app.AppId.ToString(System.Globalization.CultureInfo.InvariantCulture), key, DateTimeOffset.UtcNow.AddMinutes(-15)));
        using var otherKey = System.Security.Cryptography.RSA.Create(2048);
        var forged = await Send(HttpMethod.Get, $"repos/{Repo}/installation", Blip.Actors.GitHub.AppJwt.Create(app.AppId.ToString(System.Globalization.CultureInfo.InvariantCulture), otherKey, DateTimeOffset.UtcNow));
        var notInstalled = await Send(HttpMethod.Get, "repos/acme/elsewhere/installation", jwt);

        Assert.Equal((200, 201, 200), (installation.Status, token.Status, byClientId.Status));
        Assert.Equal(app.InstallationId, installation.Body.GetProperty("id").GetInt64());
        Assert.Empty(PublishedDescriptions.Violations(descriptions.ResponseSchema("GET", $"{Base}/installation", 200), installation.Body));
        Assert.Empty(PublishedDescriptions.Violations(descriptions.ResponseSchema("POST", "/app/installations/{installation_id}/access_tokens", 201), token.Body));
        Assert.StartsWith("ghs_", token.Body.GetProperty("token").GetString(), StringComparison.Ordinal);
        Assert.Equal((401, 401, 404), (expired.Status, forged.Status, notInstalled.Status));
    }

    /// <summary>A job through every state, and every kind of reply the controller reads; the replies, each with the path
    /// of its operation as GitHub's description spells it.</summary>
    private async Task<List<Reply>> RunScenarioAsync()
    {
        var hook = new Uri(_receiver.Urls.First().TrimEnd('/') + "/hook");
        await using var emulator = await GitHubEmulator.StartAsync(new GitHubEmulatorOptions { Repos = [Repo], WebhookUrl = hook, WebhookSecret = "s" });
        using var admin = emulator.CreateAdminClient();
        var token = emulator.CreateToken(new CreateTokenRequest([Repo], Actions: "read", Administration: "write"));
        using var http = new HttpClient { BaseAddress = emulator.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        http.DefaultRequestHeaders.UserAgent.ParseAdd("blip-tests");
        http.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.github+json");
        var replies = new List<Reply>();

        async Task<JsonElement?> Call(HttpMethod method, string described, string actual, object? body = null)
        {
            using var request = new HttpRequestMessage(method, actual.TrimStart('/'));
            if (body is not null)
            {
                request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            JsonElement? json = text.Length == 0 ? null : JsonSerializer.Deserialize<JsonElement>(text);
            replies.Add(new Reply(method.Method, described, (int)response.StatusCode, json));
            return json;
        }

        async Task ListEverything()
        {
            foreach (var status in Blip.Actors.GitHub.DiscoveryPlan.AllStatuses.Append("completed"))
            {
                var runs = await Call(HttpMethod.Get, $"{Base}/actions/runs", $"/repos/{Repo}/actions/runs?status={status}&per_page=100&page=1");
                foreach (var run in runs!.Value.GetProperty("workflow_runs").EnumerateArray())
                {
                    var jobs = await Call(HttpMethod.Get, $"{Base}/actions/runs/{{run_id}}/jobs", $"/repos/{Repo}/actions/runs/{run.GetProperty("id").GetInt64()}/jobs?filter=latest&per_page=100&page=1");
                    foreach (var job in jobs!.Value.GetProperty("jobs").EnumerateArray())
                    {
                        await Call(HttpMethod.Get, $"{Base}/actions/jobs/{{job_id}}", $"/repos/{Repo}/actions/jobs/{job.GetProperty("id").GetInt64()}");
                    }
                }
            }

            var runners = await Call(HttpMethod.Get, $"{Base}/actions/runners", $"/repos/{Repo}/actions/runners?per_page=100&page=1");
            foreach (var runner in runners!.Value.GetProperty("runners").EnumerateArray())
            {
                await Call(HttpMethod.Get, $"{Base}/actions/runners/{{runner_id}}", $"/repos/{Repo}/actions/runners/{runner.GetProperty("id").GetInt64()}");
            }

            await Call(HttpMethod.Get, "/rate_limit", "/rate_limit");
        }

        var jit = $"{Base}/actions/runners/generate-jitconfig";
        var jitPath = $"/repos/{Repo}/actions/runners/generate-jitconfig";
        var work = emulator.QueueJob(new QueueJobRequest(Repo, Labels, DurationSeconds: 600));
        var gated = emulator.QueueJob(new QueueJobRequest(Repo, Labels, Waiting: true));
        // A run pending on its concurrency group behind one in progress (listed with status pending, its job pending).
        emulator.QueueJob(new QueueJobRequest(Repo, Labels, DurationSeconds: 600, ConcurrencyGroup: "deploy"));
        emulator.QueueJob(new QueueJobRequest(Repo, Labels, ConcurrencyGroup: "deploy"));
        await ListEverything();

        var created = await Call(HttpMethod.Post, jit, jitPath, new { name = "blip-1-a", runner_group_id = 1, labels = Labels, work_folder = "_work" });
        await Call(HttpMethod.Post, jit, jitPath, new { name = "blip-1-a", runner_group_id = 1, labels = Labels, work_folder = "_work" });
        await Call(HttpMethod.Post, jit, jitPath, new { name = "blip-1-b", runner_group_id = 1, labels = Array.Empty<string>(), work_folder = "_work" });
        var idle = await Call(HttpMethod.Post, jit, jitPath, new { name = "blip-2-a", runner_group_id = 1, labels = Labels, work_folder = "_work" });

        // The fake runner's side: redeem the JIT config and take the queued job.
        var config = Encoding.UTF8.GetString(Convert.FromBase64String(created!.Value.GetProperty("encoded_jit_config").GetString()!)).Split(' ');
        using var runnerHttp = new HttpClient { BaseAddress = emulator.Url };
        var session = (await (await runnerHttp.PostAsync("_runner/redeem", new StringContent($"{config[2]} {config[3]}"))).Content.ReadAsStringAsync()).Split(' ')[0];
        Assert.Equal($"job {work.JobId}", string.Join(' ', (await (await runnerHttp.PostAsync("_runner/acquire", new StringContent(session))).Content.ReadAsStringAsync()).Split(' ').Take(2)));
        await ListEverything();

        var runnerId = created.Value.GetProperty("runner").GetProperty("id").GetInt64();
        await Call(HttpMethod.Delete, $"{Base}/actions/runners/{{runner_id}}", $"/repos/{Repo}/actions/runners/{runnerId}");
        await Call(HttpMethod.Delete, $"{Base}/actions/runners/{{runner_id}}", $"/repos/{Repo}/actions/runners/{idle!.Value.GetProperty("runner").GetProperty("id").GetInt64()}");
        Assert.Equal("completed", await (await runnerHttp.PostAsync("_runner/complete", new StringContent(session))).Content.ReadAsStringAsync());
        await admin.ApproveJobAsync(gated.JobId);
        await ListEverything();

        // Every change delivered (queued, queued as waiting, waiting, in progress, completed, queued on approval).
        await Deadline.UntilAsync(() => emulator.WebhooksDelivered >= 6, TimeSpan.FromSeconds(60), "six deliveries");
        return replies;
    }
}
