using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Blip.Actors.Webhooks;

/// <summary>Registers the optional webhook ingest: its health (read by the pollers), the relay and the receiver.</summary>
public static class WebhooksRegistration
{
    /// <summary>The options and <see cref="WebhookHealth"/>; <see cref="AddWebhookReceiver"/> adds the receiver itself.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, WebhookOptions options) =>
        services.AddSingleton(options).AddSingleton<WebhookHealth>();

    /// <summary>The receiver, a hosted service: call after <c>AddAkka</c>, so it starts once the actor system runs.</summary>
    public static IServiceCollection AddWebhookReceiver(this IServiceCollection services) =>
        services.AddHostedService<WebhookReceiver>();

    public static AkkaConfigurationBuilder AddWebhookHealthRelay(this AkkaConfigurationBuilder builder, WebhookHealth health) =>
        builder.WithActors((system, _) => system.ActorOf(WebhookHealthRelay.Props(health), "webhook-health"));
}
