using System.Text;
using Blip.Actors.Jobs;

namespace Blip.Actors.Inspection;

/// <summary>
/// This node's metrics, one instance per controller (a DI singleton, so several controllers in one process
/// keep their own). Counters count what happened on this node: sum them across pods. Gauges are set when
/// <c>/metrics</c> is scraped.
/// </summary>
public sealed class BlipMetrics
{
    private static readonly double[] LatencyBuckets = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

    public BlipMetrics()
    {
        foreach (var outcome in Enum.GetNames<JobOutcome>())
        {
            JobsCompleted.Add(0, outcome.ToLowerInvariant());
        }

        All =
        [
            JobsSeen, JobsClaimed, JobsProvisioned, JobsCompleted, PickupLatency, ProvisioningDuration, VmsClaimed, VmsClaimable,
            ClaimConflicts, AllocationFailures, GitHubRequests, GitHubHttpResponses, KubernetesRequests, SshAttempts, SshFailures, ConfigurationFaults, ConfigurationFaultsActive, ClusterMembers,
            ShardEntities, Shards, RunnerRegistrationsDeleted, RunListingsCapped, GitHubRateLimit, GitHubRateLimitRemaining, GitHubRateLimitReset,
        ];
    }

    public Counter JobsSeen { get; } = new("blip_jobs_seen_total", "Jobs taken up after a sighting (queued, labels matched).");
    public Counter JobsClaimed { get; } = new("blip_jobs_claimed_total", "VMs claimed for jobs.");
    public Counter JobsProvisioned { get; } = new("blip_jobs_provisioned_total", "JIT runners started on claimed VMs.");
    public Counter JobsCompleted { get; } = new("blip_jobs_completed_total", "Jobs finished, by outcome.", "outcome");
    public Histogram PickupLatency { get; } = new("blip_pickup_latency_seconds", "From the job queued on GitHub to its runner started.", LatencyBuckets);
    public Histogram ProvisioningDuration { get; } = new("blip_provisioning_duration_seconds", "From the VM claimed to the runner started.", LatencyBuckets);
    public Gauge VmsClaimed { get; } = new("blip_vms_claimed", "Pool VMs carrying an actions session now (this node's view of the pool).");
    public Gauge VmsClaimable { get; } = new("blip_vms_claimable", "Pool VMs claimable now (this node's view of the pool).");
    public Counter ClaimConflicts { get; } = new("blip_claim_conflicts_total", "VM updates answered 409 Conflict (another claimer won).");
    public Counter AllocationFailures { get; } = new("blip_allocation_failures_total", "Claim attempts that found no claimable VM or failed ('failed to allocate runner VM').");
    public Counter GitHubRequests { get; } = new("blip_github_requests_total", "Calls through the GitHub adapter, by operation and HTTP status ('ok' on success).", "endpoint", "status");
    public Counter GitHubHttpResponses { get; } = new("blip_github_http_responses_total",
        "HTTP replies from GitHub by status code; 304s answer conditional requests from the cache and are not charged to the rate limit.", "code");
    public Counter KubernetesRequests { get; } = new("blip_kubernetes_requests_total", "Kubernetes API requests, by verb, resource and HTTP status.", "verb", "resource", "status");
    public Counter SshAttempts { get; } = new("blip_ssh_attempts_total", "Attempts to start a runner over SSH.");
    public Counter SshFailures { get; } = new("blip_ssh_failures_total", "Failed attempts to start a runner over SSH, by reason.", "reason");
    public Counter ConfigurationFaults { get; } = new("blip_configuration_faults_total",
        "Configuration faults detected (the same bootstrap failure on two different VMs), by cause.", "cause");
    public Gauge ConfigurationFaultsActive { get; } = new("blip_configuration_faults_active",
        "Configuration faults active on this node now (VMs are held, not given up, until they clear).");
    public Counter RunnerRegistrationsDeleted { get; } = new("blip_runner_registrations_deleted_total",
        "Orphaned runner registrations of ours deleted by the sweeper (offline, not busy, job done, unknown or on another runner).");
    public Counter RunListingsCapped { get; } = new("blip_github_run_listings_capped_total",
        "Status-filtered run listings that reached GitHub's 1,000-run cap (older runs invisible to polling; webhooks see them), by status.", "status");
    public Gauge ClusterMembers { get; } = new("blip_cluster_members", "Cluster members this node sees Up.");
    public Gauge ShardEntities { get; } = new("blip_shard_entities", "Job entities alive in this node's shard region.");
    public Gauge Shards { get; } = new("blip_shards", "Job shards hosted by this node's shard region.");

    public Gauge GitHubRateLimit { get; } = new("blip_github_rate_limit", "The PAT's primary rate limit per hour, from the last GitHub reply.");
    public Gauge GitHubRateLimitRemaining { get; } = new("blip_github_rate_limit_remaining", "Requests left in the PAT's current rate-limit window, from the last GitHub reply.");
    public Gauge GitHubRateLimitReset { get; } = new("blip_github_rate_limit_reset_timestamp_seconds", "When the PAT's rate-limit window resets (Unix time).");

    public IReadOnlyList<Metric> All { get; }

    /// <summary>Counts one persisted job event; <paramref name="state"/> is the job's state after it.</summary>
    public void OnJobEvent(IJobEvent e, JobState state)
    {
        switch (e)
        {
            case JobEvents.JobSighted:
                JobsSeen.Inc();
                break;
            case JobEvents.VmClaimed:
                JobsClaimed.Inc();
                break;
            case JobEvents.RunnerStarted started:
                JobsProvisioned.Inc();
                if (state.QueuedAt is { } queued && started.StartedAt >= queued)
                {
                    PickupLatency.Observe((started.StartedAt - queued).TotalSeconds);
                }

                if (state.ClaimedAt is { } claimed && started.StartedAt >= claimed)
                {
                    ProvisioningDuration.Observe((started.StartedAt - claimed).TotalSeconds);
                }

                break;
            case JobEvents.JobFinished finished:
                JobsCompleted.Inc(finished.Outcome.ToString().ToLowerInvariant());
                break;
        }
    }

    /// <summary>Everything in Prometheus text format 0.0.4.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        foreach (var metric in All)
        {
            metric.WriteTo(text);
        }

        return text.ToString();
    }
}
