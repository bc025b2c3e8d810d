using System.Diagnostics.Metrics;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;

namespace Blip.Actors.Inspection;

/// <summary>
/// This node's metrics on the <see cref="System.Diagnostics.Metrics"/> meter <c>Blip.Actors</c>, one instance per
/// controller (a DI singleton on the host's <see cref="IMeterFactory"/>, so several controllers in one process keep their
/// own). Counters count what happened on this node: sum them across pods. Gauges are set when <c>/metrics</c> is scraped.
/// <see cref="RenderAsync"/> writes them all in Prometheus text format (<see cref="PrometheusExport"/>).
/// </summary>
public sealed class BlipMetrics : IDisposable
{
    public const string MeterName = "Blip.Actors";

    private static readonly double[] LatencyBuckets = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
    private static readonly double[] StageBuckets = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800];
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly PrometheusExport _export;

    /// <summary>A meter of its own (unit tests); the host passes its <see cref="IMeterFactory"/>.</summary>
    public BlipMetrics()
        : this(null)
    {
    }

    public BlipMetrics(IMeterFactory? meters)
    {
        _ownsMeter = meters is null;
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        JobsSeen = new(_meter, "blip_jobs_seen_total", "Jobs taken up after a sighting (queued, labels matched).");
        JobsClaimed = new(_meter, "blip_jobs_claimed_total", "VMs claimed for jobs.");
        JobsProvisioned = new(_meter, "blip_jobs_provisioned_total", "JIT runners started on claimed VMs.");
        JobsCompleted = new(_meter, "blip_jobs_completed_total", "Jobs finished, by outcome.", "outcome");
        PickupLatency = new(_meter, "blip_pickup_latency_seconds", "From the job queued on GitHub to its runner started.", LatencyBuckets);
        ProvisioningDuration = new(_meter, "blip_provisioning_duration_seconds", "From the VM claimed to the runner started.", LatencyBuckets);
        JobStageDuration = new(_meter, "blip_job_stage_duration_seconds",
            "Time a job spent in each stage of its life, by stage (queued_to_claimed, claimed_to_runner_started, runner_started_to_job_started, job_started_to_completed, runner_started_to_finished), repo and label set (its runs-on labels, sorted).",
            ["stage", "repo", "labels"], StageBuckets);
        OldestWaitingJobAge = new(_meter, "blip_oldest_waiting_job_age_seconds",
            "Age of the oldest job waiting for a VM on this node, by repo and label set (no sample while none waits); see Blip:StuckJobAfter.", "repo", "labels");
        VmsClaimed = new(_meter, "blip_vms_claimed", "Pool VMs carrying an actions session now (this node's view of the pool).");
        VmsClaimable = new(_meter, "blip_vms_claimable", "Pool VMs claimable now (this node's view of the pool).");
        ClaimConflicts = new(_meter, "blip_claim_conflicts_total", "VM updates answered 409 Conflict (another claimer won).");
        AllocationFailures = new(_meter, "blip_allocation_failures_total", "Claim attempts that found no claimable VM or failed ('failed to allocate runner VM').");
        GitHubRequests = new(_meter, "blip_github_requests_total", "Calls through the GitHub adapter, by operation and HTTP status ('ok' on success).", "endpoint", "status");
        GitHubHttpResponses = new(_meter, "blip_github_http_responses_total",
            "HTTP replies from GitHub by status code; 304s answer conditional requests from the cache and are not charged to the rate limit.", "code");
        KubernetesRequests = new(_meter, "blip_kubernetes_requests_total", "Kubernetes API requests, by verb, resource and HTTP status.", "verb", "resource", "status");
        SshAttempts = new(_meter, "blip_ssh_attempts_total", "Attempts to start a runner over SSH.");
        SshFailures = new(_meter, "blip_ssh_failures_total", "Failed attempts to start a runner over SSH, by reason.", "reason");
        RunnerStarts = new(_meter, "blip_runner_starts_total", "Runners started over SSH, by the version bin/Runner.Listener --version printed on the VM (unknown: none).", "version");
        RunnerReleaseDaysLeft = new(_meter, "blip_runner_release_days_left",
            "Days left in GitHub's 30-day window to update the runner version started last on this node (30: no newer release; 0: closed), by version; see Blip:RunnerReleaseCheckInterval.", "version");
        ConfigurationFaults = new(_meter, "blip_configuration_faults_total",
            "Configuration faults detected (the same bootstrap failure on two different VMs), by cause.", "cause");
        ConfigurationFaultsActive = new(_meter, "blip_configuration_faults_active",
            "Configuration faults active on this node now (VMs are held, not given up, until they clear).");
        RunnerRegistrationsDeleted = new(_meter, "blip_runner_registrations_deleted_total",
            "Orphaned runner registrations of ours deleted by the sweeper (offline, not busy, job done, unknown or on another runner).");
        RunListingsCapped = new(_meter, "blip_github_run_listings_capped_total",
            "Status-filtered run listings that reached GitHub's 1,000-run cap (older runs invisible to polling; webhooks see them), by status.", "status");
        ClusterMembers = new(_meter, "blip_cluster_members", "Cluster members this node sees Up.");
        ShardEntities = new(_meter, "blip_shard_entities", "Job entities alive in this node's shard region.");
        Shards = new(_meter, "blip_shards", "Job shards hosted by this node's shard region.");
        GitHubRateLimit = new(_meter, "blip_github_rate_limit", "The PAT's primary rate limit per hour, from the last GitHub reply.");
        GitHubRateLimitRemaining = new(_meter, "blip_github_rate_limit_remaining", "Requests left in the PAT's current rate-limit window, from the last GitHub reply.");
        GitHubRateLimitReset = new(_meter, "blip_github_rate_limit_reset_timestamp_seconds", "When the PAT's rate-limit window resets (Unix time).");
        All =
        [
            JobsSeen, JobsClaimed, JobsProvisioned, JobsCompleted, PickupLatency, ProvisioningDuration, JobStageDuration, OldestWaitingJobAge, VmsClaimed, VmsClaimable,
            ClaimConflicts, AllocationFailures, GitHubRequests, GitHubHttpResponses, KubernetesRequests, SshAttempts, SshFailures, RunnerStarts, RunnerReleaseDaysLeft, ConfigurationFaults, ConfigurationFaultsActive, ClusterMembers,
            ShardEntities, Shards, RunnerRegistrationsDeleted, RunListingsCapped, GitHubRateLimit, GitHubRateLimitRemaining, GitHubRateLimitReset,
        ];
        // Listening before the first measurement: the outcomes below start at 0 on /metrics.
        _export = new PrometheusExport(_meter, All);
        foreach (var outcome in Enum.GetNames<JobOutcome>())
        {
            JobsCompleted.Add(0, outcome.ToLowerInvariant());
        }
    }

    public CounterMetric JobsSeen { get; }
    public CounterMetric JobsClaimed { get; }
    public CounterMetric JobsProvisioned { get; }
    public CounterMetric JobsCompleted { get; }
    public HistogramMetric PickupLatency { get; }
    public HistogramMetric ProvisioningDuration { get; }
    public HistogramMetric JobStageDuration { get; }
    public GaugeSetMetric OldestWaitingJobAge { get; }
    public GaugeMetric VmsClaimed { get; }
    public GaugeMetric VmsClaimable { get; }
    public CounterMetric ClaimConflicts { get; }
    public CounterMetric AllocationFailures { get; }
    public CounterMetric GitHubRequests { get; }
    public CounterMetric GitHubHttpResponses { get; }
    public CounterMetric KubernetesRequests { get; }
    public CounterMetric SshAttempts { get; }
    public CounterMetric SshFailures { get; }
    public CounterMetric RunnerStarts { get; }
    public GaugeSetMetric RunnerReleaseDaysLeft { get; }
    public CounterMetric ConfigurationFaults { get; }
    public GaugeMetric ConfigurationFaultsActive { get; }
    public CounterMetric RunnerRegistrationsDeleted { get; }
    public CounterMetric RunListingsCapped { get; }
    public GaugeMetric ClusterMembers { get; }
    public GaugeMetric ShardEntities { get; }
    public GaugeMetric Shards { get; }
    public GaugeMetric GitHubRateLimit { get; }
    public GaugeMetric GitHubRateLimitRemaining { get; }
    public GaugeMetric GitHubRateLimitReset { get; }

    public IReadOnlyList<Metric> All { get; }

    /// <summary>Counts one persisted job event; <paramref name="state"/> is the job's state after it.</summary>
    public void OnJobEvent(IJobEvent e, JobState state)
    {
        switch (e)
        {
            case JobEvents.JobSighted:
                JobsSeen.Inc();
                break;
            case JobEvents.VmClaimed claim:
                JobsClaimed.Inc();
                ObserveStage("queued_to_claimed", state, state.QueuedAt, claim.ClaimedAt);
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

                ObserveStage("claimed_to_runner_started", state, state.ClaimedAt, started.StartedAt);
                if (state.JobStartedAt is not null)
                {
                    ObserveJobStartGap(state); // a webhook said the runner took its job before its start was recorded
                }

                break;
            case JobEvents.RunnerJobStarted when state.RunnerStartedAt is not null:
                ObserveJobStartGap(state);
                break;
            case JobEvents.JobFinished finished:
                JobsCompleted.Inc(finished.Outcome.ToString().ToLowerInvariant());
                if (finished.Outcome == JobOutcome.Completed)
                {
                    ObserveStage("runner_started_to_finished", state, state.RunnerStartedAt, finished.At);
                    ObserveStage("job_started_to_completed", state, state.JobStartedAt, finished.At);
                }

                break;
        }
    }

    /// <summary>The oldest waiting job per repo and label set, as the node's stuck-job watch last assessed it.</summary>
    public void OnWaitingJobs(WaitingJobsAssessed assessed) =>
        OldestWaitingJobAge.Replace(assessed.OldestByLabelSet.Select(o => (new[] { o.Repo, o.LabelSet }, o.AgeSeconds)));

    /// <summary>One sample, for the version assessed; none before a runner version and the releases are both known.</summary>
    public void OnRunnerCurrency(RunnerReleaseEvents.CurrencyAssessed assessed)
    {
        var samples = new List<(string[] Labels, double Value)>();
        if (assessed is { Currency: { } currency, DaysLeft: { } days })
        {
            samples.Add((new[] { currency.Version }, days));
        }

        RunnerReleaseDaysLeft.Replace(samples);
    }

    /// <summary>
    /// From the runner's start to its job's, once both are known (the job may start first: the runner is recorded as started
    /// only once its VM is marked, and it takes its job meanwhile). A job started before that record, or a GitHub clock a
    /// little behind ours, had no gap: 0, so that the fast starts are counted with the slow ones and not left out.
    /// </summary>
    private void ObserveJobStartGap(JobState state)
    {
        if (state is { RunnerStartedAt: { } runner, JobStartedAt: { } job, Repo: { } repo })
        {
            JobStageDuration.Observe(Math.Max(0, (job - runner).TotalSeconds), "runner_started_to_job_started", repo.ToString(), WaitingJob.LabelSetOf(state.Labels));
        }
    }

    private void ObserveStage(string stage, JobState state, DateTimeOffset? from, DateTimeOffset to)
    {
        if (from is { } start && to >= start && state.Repo is { } repo)
        {
            JobStageDuration.Observe((to - start).TotalSeconds, stage, repo.ToString(), WaitingJob.LabelSetOf(state.Labels));
        }
    }

    /// <summary>Everything in Prometheus text format 0.0.4.</summary>
    public Task<string> RenderAsync(CancellationToken ct = default) => _export.RenderAsync(ct);

    public void Dispose()
    {
        _export.Dispose();
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
