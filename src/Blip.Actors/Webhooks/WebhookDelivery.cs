using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Blip.Actors.Shared;

namespace Blip.Actors.Webhooks;

/// <summary>A <c>workflow_job</c> delivery, verified and parsed: pure functions, unit-tested.</summary>
public static class WebhookDelivery
{
    public const int MaxBodyBytes = 1 << 20; // GitHub caps payloads at 25 MB; workflow_job payloads are a few KB

    /// <summary>Checks <c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c> against HMAC-SHA256(secret, body), in constant time.</summary>
    public static bool SignatureValid(ReadOnlySpan<byte> body, string? header, byte[] secret)
    {
        const string prefix = "sha256=";
        if (header is null || !header.StartsWith(prefix, StringComparison.Ordinal) || header.Length != prefix.Length + 64)
        {
            return false;
        }

        byte[] presented;
        try
        {
            presented = Convert.FromHexString(header.AsSpan(prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(secret, body);
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }

    public static string Sign(ReadOnlySpan<byte> body, byte[] secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    /// <summary>The parts of a <c>workflow_job</c> event we use; null with a reason when the body is not one.</summary>
    public static (WorkflowJobEvent? Event, string? Error) Parse(ReadOnlySpan<byte> body)
    {
        Payload? payload;
        try
        {
            payload = JsonSerializer.Deserialize<Payload>(body);
        }
        catch (JsonException e)
        {
            return (null, $"body is not valid JSON ({e.Message.Split('.')[0]})");
        }

        if (payload?.WorkflowJob is not { } job || payload.Repository?.FullName is not { } fullName || payload.Action is null)
        {
            return (null, "not a workflow_job payload (action, workflow_job or repository.full_name missing)");
        }

        if (!RepoName.TryParse(fullName, out var repo, out var error))
        {
            return (null, error);
        }

        return (new WorkflowJobEvent(payload.Action, job.Id, job.RunId, repo!, job.Labels ?? [], job.RunnerName, job.CreatedAt, job.Status, job.StartedAt), null);
    }

    private sealed class Payload
    {
        [JsonPropertyName("action")] public string? Action { get; set; }
        [JsonPropertyName("workflow_job")] public Job? WorkflowJob { get; set; }
        [JsonPropertyName("repository")] public Repository? Repository { get; set; }
    }

    private sealed class Job
    {
        [JsonPropertyName("id")] public long Id { get; set; }
        [JsonPropertyName("run_id")] public long RunId { get; set; }
        [JsonPropertyName("labels")] public string[]? Labels { get; set; }
        [JsonPropertyName("runner_name")] public string? RunnerName { get; set; }
        [JsonPropertyName("status")] public string? Status { get; set; }
        [JsonPropertyName("created_at")] public DateTimeOffset? CreatedAt { get; set; }
        [JsonPropertyName("started_at")] public DateTimeOffset? StartedAt { get; set; }
    }

    private sealed class Repository
    {
        [JsonPropertyName("full_name")] public string? FullName { get; set; }
    }
}

/// <param name="Action">queued, waiting, in_progress, completed.</param>
/// <param name="Status">The job's status when GitHub sent the delivery: action <c>queued</c> comes with status <c>waiting</c>
/// for a job behind an environment protection rule.</param>
/// <param name="StartedAt">The job's <c>started_at</c>: with action <c>in_progress</c>, when a runner began running it (GitHub
/// sets it to the creation time while the job is queued).</param>
public sealed record WorkflowJobEvent(
    string Action, long JobId, long RunId, RepoName Repo, IReadOnlyList<string> Labels, string? RunnerName, DateTimeOffset? CreatedAt, string? Status = null,
    DateTimeOffset? StartedAt = null)
{
    /// <summary>The job wants a runner now: action <c>queued</c> and status <c>queued</c> (or no status, as older deliveries).</summary>
    public bool WantsRunner => Action == "queued" && (Status is null || Status == "queued");

    /// <summary>The job our runner was made for, from its name <c>blip-&lt;jobId&gt;-…</c>; null for other runners.</summary>
    public long? TriggerJobOfRunner => Runners.RunnerName.JobOf(RunnerName);
}
