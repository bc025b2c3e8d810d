using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Blip.Sandbox.GitHub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>workflow_job deliveries, signed with X-Hub-Signature-256, to a receiver of the test's own.</summary>
public sealed class WebhookTests : IAsyncLifetime
{
    private const string Secret = "webhook-secret-for-tests";
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private WebApplication _receiver = null!;

    private sealed record Delivery(string Event, string DeliveryId, string Signature, byte[] Body);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            _deliveries.Enqueue(new Delivery(
                http.Request.Headers["X-GitHub-Event"].ToString(),
                http.Request.Headers["X-GitHub-Delivery"].ToString(),
                http.Request.Headers["X-Hub-Signature-256"].ToString(),
                body.ToArray()));
            return Results.Ok();
        });
        await _receiver.StartAsync();
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task A_queued_job_is_delivered_as_a_signed_workflow_job_event()
    {
        var hook = new Uri(_receiver.Urls.First().TrimEnd('/') + "/hook");
        await using var emulator = await GitHubEmulator.StartAsync(new GitHubEmulatorOptions { WebhookUrl = hook, WebhookSecret = Secret });
        var queued = emulator.QueueJob(new QueueJobRequest("acme/hooks", ["self-hosted", "blip"]));

        await Deadline.UntilAsync(() => Task.FromResult(!_deliveries.IsEmpty), ok => ok, TimeSpan.FromSeconds(10), "a webhook delivery");
        Assert.True(_deliveries.TryDequeue(out var delivery));

        Assert.Equal("workflow_job", delivery.Event);
        Assert.True(Guid.TryParse(delivery.DeliveryId, out _));
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), delivery.Body));
        Assert.True(CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(delivery.Signature)));
        var payload = JsonNode.Parse(delivery.Body)!;
        Assert.Equal("queued", payload["action"]!.GetValue<string>());
        Assert.Equal(queued.JobId, payload["workflow_job"]!["id"]!.GetValue<long>());
        Assert.Equal(queued.RunId, payload["workflow_job"]!["run_id"]!.GetValue<long>());
        Assert.Equal("queued", payload["workflow_job"]!["status"]!.GetValue<string>());
        Assert.Equal(["self-hosted", "blip"], payload["workflow_job"]!["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal("acme/hooks", payload["repository"]!["full_name"]!.GetValue<string>());
        Assert.Equal("acme", payload["repository"]!["owner"]!["login"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_cancelled_job_is_delivered_as_completed_with_conclusion_cancelled()
    {
        var hook = new Uri(_receiver.Urls.First().TrimEnd('/') + "/hook");
        await using var emulator = await GitHubEmulator.StartAsync(new GitHubEmulatorOptions { WebhookUrl = hook, WebhookSecret = Secret });
        var queued = emulator.QueueJob(new QueueJobRequest("acme/hooks", ["self-hosted"]));
        using var admin = emulator.CreateAdminClient();

        await admin.CancelJobAsync(queued.JobId);

        await Deadline.UntilAsync(() => Task.FromResult(_deliveries.Count >= 2 && emulator.WebhooksDelivered >= 2), ok => ok, TimeSpan.FromSeconds(10), "two webhook deliveries");
        var actions = _deliveries.Select(d => JsonNode.Parse(d.Body)!).Select(p => (p["action"]!.GetValue<string>(), p["workflow_job"]!["conclusion"]?.GetValue<string>()));
        Assert.Equal([("queued", null), ("completed", "cancelled")], actions);
        Assert.Equal(2, emulator.WebhooksDelivered);
    }
}
