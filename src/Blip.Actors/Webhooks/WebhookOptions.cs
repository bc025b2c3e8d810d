namespace Blip.Actors.Webhooks;

/// <summary>The settings the webhook receiver reads; bound and validated as part of <c>Hosting.BlipOptions</c> (same names).</summary>
public sealed class WebhookOptions
{
    /// <summary>Where the webhook receiver listens (e.g. <c>http://0.0.0.0:9111</c>); empty: no webhooks, polling only.</summary>
    public string? WebhookUrl { get; init; }

    /// <summary>While verified webhook deliveries arrive (one in the last 10 minutes), polling is only the backstop and runs this often.</summary>
    public TimeSpan PollIntervalWithWebhooks { get; init; } = TimeSpan.FromSeconds(30);
}
