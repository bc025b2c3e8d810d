using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;
using Blip.Actors.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Blip.Actors.Tests.Webhooks;

/// <summary>The webhook receiver on a loopback port, with probes standing in for the job region and the config actor.</summary>
public sealed class WebhookReceiverTests : TestKit, IAsyncLifetime
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("webhook-secret-for-tests");
    private static readonly DateTimeOffset CreatedAt = DateTimeOffset.Parse("2026-11-30T12:00:00Z");

    private readonly TestProbe _jobs;
    private readonly TestProbe _config;
    private readonly ControllerSecrets _secrets = new() { WebhookSecret = Secret };
    private readonly WebhookHealth _health = new();
    private readonly WebhookReceiver _receiver;
    private readonly HttpClient _http;

    // What the config actor answers; a test may change it before a delivery (the receiver asks on each one).
    private volatile ConfigProtocol.SettingsChanged _settings = new(ActionsConfig.Parse("self-hosted,blip", "org/repo").Config, HasPat: true, Synced: true);

    public WebhookReceiverTests()
    {
        _jobs = CreateTestProbe();
        _config = CreateTestProbe();
        _config.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            sender.Tell(_settings);
            return AutoPilot.KeepRunning;
        }));
        var url = $"http://127.0.0.1:{FreePort()}";
        _receiver = new WebhookReceiver(new WebhookOptions { WebhookUrl = url }, _secrets, _health, new Required<JobRegion>(_jobs.Ref), new Required<ConfigWatcherKey>(_config.Ref), NullLogger<WebhookReceiver>.Instance);
        _http = new HttpClient { BaseAddress = new Uri(url) };
    }

    public Task InitializeAsync() => _receiver.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _receiver.StopAsync(CancellationToken.None);
    }

    private static byte[] Queued(long jobId, string repo = "org/repo", string labels = "\"self-hosted\",\"blip\"") => Encoding.UTF8.GetBytes(
        $$$"""{"action":"queued","workflow_job":{"id":{{{jobId}}},"run_id":7,"labels":[{{{labels}}}],"created_at":"2026-11-30T12:00:00Z"},"repository":{"full_name":"{{{repo}}}"}}""");

    private async Task<HttpStatusCode> SendAsync(byte[] body, string delivery, string? signature = "sign", string eventName = "workflow_job")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, WebhookReceiver.Path) { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", delivery);
        if (signature is not null)
        {
            request.Headers.Add("X-Hub-Signature-256", signature == "sign" ? WebhookDelivery.Sign(body, Secret) : signature);
        }

        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Routing_a_queued_delivery_names_the_routed_pool_and_one_with_two_routing_labels_is_no_sighting()
    {
        _settings = _settings with { Config = _settings.Config! with { Pools = PoolRoutes.Parse("large=blip-large,gpu=blip-gpu", ["self-hosted", "blip"]).Routes! } };

        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(1, labels: "\"self-hosted\",\"blip\",\"gpu\",\"large\""), "d-1"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(2, labels: "\"self-hosted\",\"blip\",\"large\""), "d-2"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(3), "d-3"));

        var routed = await _jobs.ExpectMsgAsync<JobCommands.Sighted>();
        var plain = await _jobs.ExpectMsgAsync<JobCommands.Sighted>();
        Assert.Equal((2, "blip-large"), (routed.JobId.Value, routed.Pool));
        Assert.Equal((3, (string?)null), (plain.JobId.Value, plain.Pool));
    }

    [Fact]
    public async Task A_signed_queued_delivery_is_a_sighting_observed_at_the_jobs_creation()
    {
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(1), "d-1"));

        var sighted = await _jobs.ExpectMsgAsync<JobCommands.Sighted>();
        Assert.Equal(1, sighted.JobId.Value);
        Assert.Equal(new RepoName("org", "repo"), sighted.Repo);
        Assert.Equal(CreatedAt, sighted.ObservedAt);
        Assert.NotNull(_health.LastDelivery);
    }

    [Fact]
    public async Task A_replayed_delivery_is_answered_and_tells_nothing()
    {
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(1), "d-1"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(1), "d-1"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(2), "d-2"));

        // Each delivery is told before it is answered: after job 1 the next one the region hears of is job 2.
        Assert.Equal(1, (await _jobs.ExpectMsgAsync<JobCommands.Sighted>()).JobId.Value);
        Assert.Equal(2, (await _jobs.ExpectMsgAsync<JobCommands.Sighted>()).JobId.Value);
    }

    [Fact]
    public async Task Unsigned_tampered_unknown_repo_or_unmatched_labels_tell_the_region_nothing()
    {
        var body = Queued(1);
        var tampered = (byte[])body.Clone();
        tampered[^5] ^= 0x01;

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(body, "d-1", signature: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(tampered, "d-2", signature: WebhookDelivery.Sign(body, Secret)));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(Queued(3, repo: "org/unknown"), "d-3"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(4, labels: "\"self-hosted\",\"gpu\""), "d-4"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Queued(5), "d-5"));

        Assert.Equal(5, (await _jobs.ExpectMsgAsync<JobCommands.Sighted>()).JobId.Value);
    }

    [Fact]
    public async Task A_completed_job_run_by_one_of_our_runners_tells_that_runners_job()
    {
        var body = Encoding.UTF8.GetBytes("""{"action":"completed","workflow_job":{"id":99,"run_id":7,"labels":["self-hosted","blip"],"runner_name":"blip-42-ab12cd34"},"repository":{"full_name":"org/repo"}}""");

        Assert.Equal(HttpStatusCode.OK, await SendAsync(body, "d-1"));

        var completed = await _jobs.ExpectMsgAsync<JobCommands.RunnerJobCompleted>();
        Assert.Equal(42, completed.JobId.Value);
        Assert.Equal("blip-42-ab12cd34", completed.RunnerName);
        Assert.Equal(99, completed.RanJobId);
    }

    [Fact]
    public async Task A_job_one_of_our_runners_began_running_tells_that_runners_job_with_githubs_started_at()
    {
        var ours = Encoding.UTF8.GetBytes("""{"action":"in_progress","workflow_job":{"id":99,"run_id":7,"labels":["self-hosted","blip"],"runner_name":"blip-42-ab12cd34","status":"in_progress","started_at":"2026-11-30T12:00:07Z"},"repository":{"full_name":"org/repo"}}""");
        var theirs = Encoding.UTF8.GetBytes("""{"action":"in_progress","workflow_job":{"id":98,"run_id":7,"labels":["self-hosted","blip"],"runner_name":"someone-elses-runner","status":"in_progress","started_at":"2026-11-30T12:00:07Z"},"repository":{"full_name":"org/repo"}}""");

        Assert.Equal(HttpStatusCode.OK, await SendAsync(theirs, "d-1"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(ours, "d-2"));

        var started = await _jobs.ExpectMsgAsync<JobCommands.RunnerJobStarted>();
        Assert.Equal(new JobCommands.RunnerJobStarted(new JobId(42), "blip-42-ab12cd34", 99, CreatedAt.AddSeconds(7)), started);
    }

    [Fact]
    public async Task Without_a_webhook_secret_deliveries_are_refused_with_503()
    {
        _secrets.WebhookSecret = null;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await SendAsync(Queued(1), "d-1"));
        Assert.Null(_health.LastDelivery);
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private sealed class Required<TKey>(IActorRef actor) : IRequiredActor<TKey>
    {
        public IActorRef ActorRef => actor;

        public Task<IActorRef> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(actor);
    }
}
