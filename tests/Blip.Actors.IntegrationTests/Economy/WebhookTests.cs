using System.Net;
using System.Text;
using Akka.Actor;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;
using Blip.Actors.Webhooks;
using Xunit.Abstractions;

namespace Blip.Actors.IntegrationTests.Economy;

/// <summary>workflow_job webhooks: instant pickup, verified signatures, harmless replays.</summary>
public sealed class WebhookTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_signed_queued_delivery_starts_a_runner_with_no_poll_in_between()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, webhooks: "emulator");
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMinutes(5));
        await Deadline.UntilAsync(() => world.Log.Contains("webhook receiver listening") && world.Log.Contains("webhook secret loaded"), PipelineWorld.Deadline, "receiver up with its secret");
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint.TryGetValue("GET /repos/{o}/{r}/actions/runs", out var runs) && runs.Total >= Blip.Actors.GitHub.DiscoveryPlan.AllStatuses.Count, PipelineWorld.Deadline, "the first poll (one listing per polled run status)");
        var polls = (await world.GitHub.GetStatsAsync()).ByEndpoint["GET /repos/{o}/{r}/actions/runs"].Total;

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);

        var started = await world.WaitForJobAsync(job.JobId, j => j.StartedAt is not null, "started", TimeSpan.FromSeconds(20));
        output.WriteLine($"pickup by webhook: {(started.StartedAt!.Value - started.QueuedAt).TotalSeconds:F2} s");
        Assert.Equal(polls, (await world.GitHub.GetStatsAsync()).ByEndpoint["GET /repos/{o}/{r}/actions/runs"].Total);
        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed");
        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, PipelineWorld.Deadline, "VM released");
    }

    [Fact]
    public async Task Unsigned_tampered_oversized_or_unknown_repo_deliveries_are_refused_and_a_replay_claims_nothing_more()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2, webhooks: "manual");
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMinutes(5));
        await Deadline.UntilAsync(() => world.Log.Contains("webhook receiver listening") && world.Log.Contains("webhook secret loaded"), PipelineWorld.Deadline, "receiver up with its secret");
        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{world.WebhookPort}") };
        var body = Encoding.UTF8.GetBytes($$$"""{"action":"queued","workflow_job":{"id":{{{job.JobId}}},"run_id":{{{job.RunId}}},"labels":["self-hosted","blip"],"status":"queued"},"repository":{"full_name":"org/repo"}}""");

        Task<HttpResponseMessage> Send(byte[] payload, string? signature, string delivery, string repoEvent = "workflow_job")
        {
            var request = new HttpRequestMessage(HttpMethod.Post, WebhookReceiver.Path) { Content = new ByteArrayContent(payload) };
            request.Headers.Add("X-GitHub-Event", repoEvent);
            request.Headers.Add("X-GitHub-Delivery", delivery);
            if (signature is not null)
            {
                request.Headers.Add("X-Hub-Signature-256", signature);
            }

            return http.SendAsync(request);
        }

        var secret = world.WebhookSecret!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(body, null, "d-1")).StatusCode);
        var tampered = (byte[])body.Clone();
        tampered[^3] ^= 0x01;
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(tampered, WebhookDelivery.Sign(body, secret), "d-2")).StatusCode);
        var huge = new byte[WebhookDelivery.MaxBodyBytes + 10];
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Send(huge, WebhookDelivery.Sign(huge, secret), "d-3")).StatusCode);
        var otherRepo = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("org/repo", "org/unknown", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await Send(otherRepo, WebhookDelivery.Sign(otherRepo, secret), "d-4")).StatusCode);
        var garbage = "{not json"u8.ToArray();
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(garbage, WebhookDelivery.Sign(garbage, secret), "d-5")).StatusCode);
        Assert.Empty(world.ClaimsOf(job.JobId));
        Assert.Contains(world.Log.Lines, l => l.Contains("X-Hub-Signature-256 missing or wrong"));

        Assert.Equal(HttpStatusCode.OK, (await Send(body, WebhookDelivery.Sign(body, secret), "d-6")).StatusCode);
        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "served from the delivery");
        Task<JobQueries.Status> StatusAsync() => world.Controller!.Registry.Get<JobRegion>()
            .Ask<JobQueries.Status>(new JobQueries.GetStatus(new JobId(job.JobId)), TimeSpan.FromSeconds(30));
        await Deadline.UntilAsync(StatusAsync, s => s.Phase == JobPhase.Done, PipelineWorld.Deadline, "the job done, its VM released");
        Assert.Equal(HttpStatusCode.OK, (await Send(body, WebhookDelivery.Sign(body, secret), "d-6")).StatusCode);
        Assert.Contains(world.Log.Lines, l => l.Contains("webhook delivery d-6: replayed; ignored"));
        Assert.Equal(HttpStatusCode.OK, (await Send(body, WebhookDelivery.Sign(body, secret), "d-7")).StatusCode);

        // The receiver told the job region the sighting before it answered 200. A status query sent after that answer
        // reaches the job actor behind the sighting (each hop keeps order) and is answered once the sighting was handled.
        Assert.Equal(JobPhase.Done, (await StatusAsync()).Phase);
        Assert.Single(world.ClaimsOf(job.JobId));
    }
}
