using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Blip.Sandbox.GitHub;

/// <summary>Typed client of the GitHub emulator's admin API (<c>/_sandbox/</c>).</summary>
public sealed class GitHubSandboxClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <param name="url">The emulator's root URL.</param>
    /// <param name="adminToken">Its admin token.</param>
    /// <param name="http">A client to use (its BaseAddress and auth header are set); null makes one.</param>
    public GitHubSandboxClient(Uri url, string adminToken, HttpClient? http = null)
    {
        _ownsHttp = http is null;
        _http = http ?? new HttpClient();
        _http.BaseAddress = url;
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
    }

    public Task<QueuedJob> QueueJobAsync(QueueJobRequest request, CancellationToken ct = default) =>
        SendAsync<QueuedJob>(HttpMethod.Post, "_sandbox/jobs", request, ct)!;

    public Task<QueuedJob> QueueJobAsync(string repo, IReadOnlyList<string> labels, int durationSeconds = 5, CancellationToken ct = default) =>
        QueueJobAsync(new QueueJobRequest(repo, labels, durationSeconds), ct);

    /// <summary>The job, or null when the emulator never had it.</summary>
    public Task<SandboxJob?> GetJobAsync(long jobId, CancellationToken ct = default) =>
        SendAsync<SandboxJob>(HttpMethod.Get, $"_sandbox/jobs/{jobId}", null, ct, nullOn404: true);

    public async Task<IReadOnlyList<SandboxJob>> ListJobsAsync(string? repo = null, CancellationToken ct = default) =>
        await SendAsync<List<SandboxJob>>(HttpMethod.Get, repo is null ? "_sandbox/jobs" : $"_sandbox/jobs?repo={Uri.EscapeDataString(repo)}", null, ct).ConfigureAwait(false)
        ?? [];

    public Task<SandboxJob> CancelJobAsync(long jobId, CancellationToken ct = default) =>
        SendAsync<SandboxJob>(HttpMethod.Post, $"_sandbox/jobs/{jobId}/cancel", null, ct)!;

    /// <summary>Approves a job that waits behind an environment protection rule (it becomes queued).</summary>
    public Task<SandboxJob> ApproveJobAsync(long jobId, CancellationToken ct = default) =>
        SendAsync<SandboxJob>(HttpMethod.Post, $"_sandbox/jobs/{jobId}/approve", null, ct)!;

    /// <summary>Every webhook delivery the emulator made, in order.</summary>
    public async Task<IReadOnlyList<SandboxDelivery>> ListDeliveriesAsync(CancellationToken ct = default) =>
        await SendAsync<List<SandboxDelivery>>(HttpMethod.Get, "_sandbox/deliveries", null, ct).ConfigureAwait(false) ?? [];

    /// <summary>Sends a past delivery again under its own GUID, as GitHub's "Redeliver".</summary>
    public Task RedeliverAsync(string guid, CancellationToken ct = default) =>
        SendAsync<object>(HttpMethod.Post, $"_sandbox/deliveries/{Uri.EscapeDataString(guid)}/redeliver", null, ct);

    /// <summary>Sends an event of another kind (ping, push, …).</summary>
    public Task<SandboxDelivery> SendEventAsync(SendEventRequest request, CancellationToken ct = default) =>
        SendAsync<SandboxDelivery>(HttpMethod.Post, "_sandbox/deliveries", request, ct)!;

    public Task SetSettingsAsync(SandboxSettings settings, CancellationToken ct = default) =>
        SendAsync<object>(HttpMethod.Put, "_sandbox/settings", settings, ct);

    /// <summary>Runners registered now, or with <paramref name="all"/> every runner ever registered.</summary>
    public async Task<IReadOnlyList<SandboxRunner>> ListRunnersAsync(bool all = false, CancellationToken ct = default) =>
        await SendAsync<List<SandboxRunner>>(HttpMethod.Get, all ? "_sandbox/runners?all=true" : "_sandbox/runners", null, ct).ConfigureAwait(false)
        ?? [];

    public async Task<string> CreateTokenAsync(CreateTokenRequest request, CancellationToken ct = default) =>
        (await SendAsync<CreatedToken>(HttpMethod.Post, "_sandbox/tokens", request, ct).ConfigureAwait(false))!.Token;

    public Task<SandboxStats> GetStatsAsync(CancellationToken ct = default) =>
        SendAsync<SandboxStats>(HttpMethod.Get, "_sandbox/stats", null, ct)!;

    public Task<SandboxSecrets> GetSecretsAsync(CancellationToken ct = default) =>
        SendAsync<SandboxSecrets>(HttpMethod.Get, "_sandbox/secrets", null, ct)!;

    public Task SetFaultsAsync(SandboxFaults faults, CancellationToken ct = default) =>
        SendAsync<object>(HttpMethod.Put, "_sandbox/faults", faults, ct);

    public Task SetBudgetAsync(string token, int remaining, int resetSeconds = 3600, CancellationToken ct = default) =>
        SendAsync<object>(HttpMethod.Put, $"_sandbox/tokens/{Uri.EscapeDataString(token)}/budget", new SetBudgetRequest(remaining, resetSeconds), ct);

    private async Task<T?> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct, bool nullOn404 = false)
        where T : class
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        if (nullOn404 && response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new HttpRequestException($"{method} /{path}: {(int)response.StatusCode} {text}", null, response.StatusCode);
        }
        if (response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object))
        {
            return null;
        }

        return await response.Content.ReadFromJsonAsync<T>(Json, ct).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
