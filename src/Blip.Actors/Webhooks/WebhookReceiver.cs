using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Hosting;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Webhooks;

/// <summary>
/// Optional ingest of GitHub <c>workflow_job</c> deliveries on <c>Blip:WebhookUrl</c> (POST /webhooks/github) for
/// sub-second pickup; polling stays as the backstop. Verified with X-Hub-Signature-256 against Secret
/// <c>github-webhook</c> key <c>secret</c>. <c>queued</c> feeds the same sightings as polling (dedup makes
/// doubles harmless); <c>in_progress</c> with one of our runners tells that runner's job its runner began running a job
/// (the job-started stage); <c>completed</c> with one of our runners tells that runner's job it is done — free completion.
/// </summary>
public sealed class WebhookReceiver(
    WebhookOptions options,
    ControllerSecrets secrets,
    WebhookHealth health,
    IRequiredActor<JobRegion> jobs,
    IRequiredActor<ConfigWatcherKey> config,
    ILogger<WebhookReceiver> logger) : IHostedService
{
    public const string Path = "/webhooks/github";
    private const int DeliveryMemory = 10_000;

    private readonly ConcurrentDictionary<string, byte> _seenDeliveries = new();
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.WebhookUrl))
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(options.WebhookUrl);
        // Kestrel's own cut-off is higher than ours: up to it we read an oversized body away and answer 413 cleanly,
        // rather than closing the connection under a client that is still sending.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 8 * WebhookDelivery.MaxBodyBytes);
        _app = builder.Build();
        _app.MapPost(Path, (Delegate)HandleAsync);
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation("webhook receiver listening on {Url}{Path}", options.WebhookUrl.TrimEnd('/'), Path);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Remember(string delivery)
    {
        if (delivery.Length == 0)
        {
            return;
        }

        if (_seenDeliveries.Count >= DeliveryMemory)
        {
            _seenDeliveries.Clear();
        }

        _seenDeliveries.TryAdd(delivery, 0);
    }

    private async Task<IResult> HandleAsync(HttpContext http)
    {
        var delivery = http.Request.Headers["X-GitHub-Delivery"].ToString();
        var eventName = http.Request.Headers["X-GitHub-Event"].ToString();
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
            body = buffer.ToArray();
            if (body.Length > WebhookDelivery.MaxBodyBytes)
            {
                logger.LogWarning("webhook delivery {Delivery}: rejected, body of {Length} bytes is over {Max}", delivery, body.Length, WebhookDelivery.MaxBodyBytes);
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            logger.LogWarning("webhook delivery {Delivery}: rejected, body over {Max} bytes", delivery, WebhookDelivery.MaxBodyBytes);
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        if (secrets.WebhookSecret is not { } secret)
        {
            logger.LogWarning("webhook delivery {Delivery}: rejected, Secret {Secret} has no '{Key}'", delivery, ControllerSecrets.WebhookSecretName, ControllerSecrets.WebhookSecretKey);
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }

        if (!WebhookDelivery.SignatureValid(body, http.Request.Headers["X-Hub-Signature-256"].FirstOrDefault(), secret))
        {
            logger.LogWarning("webhook delivery {Delivery}: rejected, X-Hub-Signature-256 missing or wrong", delivery);
            return Results.Unauthorized();
        }

        if (eventName == "ping")
        {
            return Results.Ok();
        }

        if (eventName != "workflow_job")
        {
            return Results.Accepted(); // other events are not for us; GitHub only needs a 2xx
        }

        // Only deliveries accepted and acted on are remembered: GitHub's "Redeliver" reuses the GUID, and a redelivery of
        // one we refused (repo not configured yet, a body we could not act on, a failure of ours) must be looked at again.
        if (delivery.Length > 0 && _seenDeliveries.ContainsKey(delivery))
        {
            logger.LogInformation("webhook delivery {Delivery}: replayed; ignored", delivery);
            return Results.Ok();
        }

        var (evt, error) = WebhookDelivery.Parse(body);
        if (evt is null)
        {
            logger.LogWarning("webhook delivery {Delivery}: rejected, {Error}", delivery, error);
            return Results.BadRequest();
        }

        var settings = await config.ActorRef.Ask<ConfigProtocol.SettingsChanged>(ConfigProtocol.GetSettings.Instance, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        // Repo names are case-insensitive on GitHub: the delivery names the repo in GitHub's canonical case, the ConfigMap
        // perhaps otherwise. The job goes on under the configured spelling, as the poller's sightings do.
        var configured = settings.Config?.Repos.FirstOrDefault(r => r.Equals(evt.Repo));
        if (settings.Config is not { } actions || configured is null)
        {
            logger.LogWarning("webhook delivery {Delivery}: rejected, repo {Repo} is not configured", delivery, evt.Repo);
            return Results.NotFound();
        }

        evt = evt with { Repo = configured };

        // Only what the pollers would otherwise have to find proves webhooks work: a workflow_job delivery for a configured
        // repo. A ping, a push or another repo's delivery says nothing about the deliveries polling stands back for.
        health.DeliveryVerified();

        switch (evt.Action)
        {
            case "queued" or "waiting" when !evt.WantsRunner:
                logger.LogInformation("job {JobId} ({Repo}): status {Status} (awaiting approval or a concurrency slot); taken up once GitHub queues it", evt.JobId, evt.Repo, evt.Status);
                break;
            case "queued" when settings.CanPoll && PoolRoute.Decide(actions.RunnerLabels, actions.Pools, [.. evt.Labels]) is { Matches: true } route:
                // A delivery says the job WAS queued when it was created; it may be replayed or late. Only a poll sent after our
                // runner finished may take a finished job up again, so a delivery counts as observed at the job's creation.
                jobs.ActorRef.Tell(new JobCommands.Sighted(new JobId(evt.JobId), evt.Repo, [.. evt.Labels], evt.RunId, evt.CreatedAt, evt.CreatedAt ?? DateTimeOffset.MinValue, route.Pool));
                break;
            case "queued" when LabelMatcher.Matches(actions.RunnerLabels, evt.Labels) && settings.CanPoll:
                logger.LogInformation("job {JobId} ({Repo}): job labels do not match runner labels (webhook): {Reason}", evt.JobId, evt.Repo, PoolRoute.Decide(actions.RunnerLabels, actions.Pools, [.. evt.Labels]).Mismatch);
                break;
            case "queued":
                logger.LogInformation("job {JobId} ({Repo}): job labels do not match runner labels (webhook){CaseHint}", evt.JobId, evt.Repo, LabelMatcher.CaseHint(actions.RunnerLabels, evt.Labels));
                break;
            case "in_progress" when evt.TriggerJobOfRunner is { } trigger:
                jobs.ActorRef.Tell(new JobCommands.RunnerJobStarted(new JobId(trigger), evt.RunnerName!, evt.JobId, evt.StartedAt));
                break;
            case "completed" when evt.TriggerJobOfRunner is { } trigger:
                jobs.ActorRef.Tell(new JobCommands.RunnerJobCompleted(new JobId(trigger), evt.RunnerName!, evt.JobId));
                break;
        }

        Remember(delivery);
        return Results.Ok();
    }
}
