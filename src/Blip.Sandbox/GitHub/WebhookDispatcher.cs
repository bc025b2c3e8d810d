using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;

namespace Blip.Sandbox.GitHub;

/// <summary>
/// Delivers <c>workflow_job</c> events to one URL, signed like GitHub's (<c>X-Hub-Signature-256</c>),
/// in order, best effort: one attempt per event, failures only counted.
/// </summary>
internal sealed class WebhookDispatcher : IAsyncDisposable
{
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
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

    public void Enqueue(string payloadJson) => _queue.Writer.TryWrite(payloadJson);

    public static string Sign(byte[] secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    private async Task DeliverAsync()
    {
        await foreach (var payload in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var body = Encoding.UTF8.GetBytes(payload);
            using var request = new HttpRequestMessage(HttpMethod.Post, _target);
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.Add("X-GitHub-Event", "workflow_job");
            request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
            request.Headers.Add("X-GitHub-Hook-ID", "1");
            request.Headers.Add("X-Hub-Signature-256", Sign(_secret, body));
            request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/blip-sandbox");
            try
            {
                using var response = await _http.SendAsync(request).ConfigureAwait(false);
                Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _delivered : ref _failed);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref _failed);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
    }
}
