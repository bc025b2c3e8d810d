using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;

namespace Blip.Sandbox.GitHub;

/// <summary>
/// Delivers webhook events to one URL, signed like GitHub's (<c>X-Hub-Signature-256</c>), in order, best effort: one
/// attempt per delivery, each remembered with the status it was answered with. A redelivery (GitHub's "Redeliver")
/// sends the same body under the same <c>X-GitHub-Delivery</c> GUID.
/// </summary>
internal sealed class WebhookDispatcher : IAsyncDisposable
{
    private readonly Channel<Delivery> _queue = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, SandboxDelivery> _deliveries = new(StringComparer.Ordinal);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Uri _target;
    private readonly byte[] _secret;
    private readonly Task _loop;
    private int _delivered;
    private int _failed;

    public WebhookDispatcher(Uri target, string? secret)
    {
        _target = target;
        _secret = Encoding.UTF8.GetBytes(secret ?? "");
        _loop = Task.Run(DeliverAsync);
    }

    public int Delivered => Volatile.Read(ref _delivered);
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Sends an event under a new GUID; returns the GUID.</summary>
    public string Enqueue(string payloadJson, string eventName = "workflow_job")
    {
        var guid = Guid.NewGuid().ToString();
        var delivery = new Delivery(guid, eventName, payloadJson, Redelivery: false);
        _payloads[guid] = delivery;
        _deliveries[guid] = new SandboxDelivery(guid, eventName, false, null, Interlocked.Increment(ref _sequence));
        _queue.Writer.TryWrite(delivery);
        return guid;
    }

    /// <summary>Sends a past delivery again under its own GUID. False when the GUID is unknown.</summary>
    public bool Redeliver(string guid)
    {
        if (!_payloads.TryGetValue(guid, out var original))
        {
            return false;
        }

        _queue.Writer.TryWrite(original with { Redelivery = true });
        return true;
    }

    /// <summary>Every delivery so far, with the status of its last attempt (null while none was answered).</summary>
    public IReadOnlyList<SandboxDelivery> Deliveries() => [.. _deliveries.Values.OrderBy(d => d.Sequence)];

    private readonly ConcurrentDictionary<string, Delivery> _payloads = new(StringComparer.Ordinal);
    private long _sequence;

    public static string Sign(byte[] secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    private async Task DeliverAsync()
    {
        await foreach (var delivery in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var body = Encoding.UTF8.GetBytes(delivery.Payload);
            using var request = new HttpRequestMessage(HttpMethod.Post, _target);
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.Add("X-GitHub-Event", delivery.Event);
            request.Headers.Add("X-GitHub-Delivery", delivery.Guid);
            request.Headers.Add("X-GitHub-Hook-ID", "1");
            request.Headers.Add("X-Hub-Signature-256", Sign(_secret, body));
            request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/blip-sandbox");
            int? status;
            try
            {
                using var response = await _http.SendAsync(request).ConfigureAwait(false);
                status = (int)response.StatusCode;
                Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _delivered : ref _failed);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
                Interlocked.Increment(ref _failed);
            }
            _deliveries[delivery.Guid] = new SandboxDelivery(delivery.Guid, delivery.Event, delivery.Redelivery, status, Interlocked.Increment(ref _sequence));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
    }

    private sealed record Delivery(string Guid, string Event, string Payload, bool Redelivery);
}
