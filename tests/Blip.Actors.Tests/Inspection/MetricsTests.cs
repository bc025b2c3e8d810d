using Blip.Actors.Inspection;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;

namespace Blip.Actors.Tests.Inspection;

public sealed class MetricsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_labelled_counter_renders_help_type_and_one_sample_per_label_set()
    {
        using var metrics = new BlipMetrics();
        metrics.GitHubRequests.Inc("list", "ok");
        metrics.GitHubRequests.Inc("list", "ok");
        metrics.GitHubRequests.Inc("get", "404");

        var text = await metrics.RenderAsync();

        Assert.Contains("# HELP blip_github_requests_total Calls through the GitHub adapter, by operation and HTTP status ('ok' on success).\n# TYPE blip_github_requests_total counter\n", text);
        Assert.Contains("blip_github_requests_total{endpoint=\"list\",status=\"ok\"} 2\n", text);
        Assert.Contains("blip_github_requests_total{endpoint=\"get\",status=\"404\"} 1\n", text);
        Assert.Equal(2, metrics.GitHubRequests.Value("list", "ok"));
    }

    [Fact]
    public async Task Label_values_are_escaped()
    {
        using var metrics = new BlipMetrics();
        metrics.SshFailures.Inc("a \"quoted\"\\path\nnext");

        Assert.Contains("blip_ssh_failures_total{reason=\"a \\\"quoted\\\"\\\\path\\nnext\"} 1\n", await metrics.RenderAsync());
    }

    [Fact]
    public async Task A_histogram_has_cumulative_buckets_an_inf_bucket_sum_and_count()
    {
        using var metrics = new BlipMetrics();
        metrics.PickupLatency.Observe(0.5);
        metrics.PickupLatency.Observe(3);
        metrics.PickupLatency.Observe(10);

        var text = await metrics.RenderAsync();

        Assert.Contains("blip_pickup_latency_seconds_bucket{le=\"0.5\"} 1\n", text);
        Assert.Contains("blip_pickup_latency_seconds_bucket{le=\"5\"} 2\n", text);
        Assert.Contains("blip_pickup_latency_seconds_bucket{le=\"+Inf\"} 3\n", text);
        Assert.Contains("blip_pickup_latency_seconds_sum 13.5\n", text);
        Assert.Contains("blip_pickup_latency_seconds_count 3\n", text);
        Assert.Contains("# TYPE blip_pickup_latency_seconds histogram\n", text);
        Assert.Equal(3, metrics.PickupLatency.Count);
    }

    [Fact]
    public async Task Job_events_move_the_lifecycle_counters_and_latency_histograms()
    {
        using var metrics = new BlipMetrics();
        await ReplayAsync(metrics, Job7(
            new JobEvents.RunnerStarted(T0.AddSeconds(5)),
            new JobEvents.JobFinished(JobOutcome.Completed, "runner finished", T0.AddSeconds(9)),
            new JobEvents.VmReleased("blip-a", T0.AddSeconds(10))));

        Assert.Equal(1, metrics.JobsSeen.Value());
        Assert.Equal(1, metrics.JobsClaimed.Value());
        Assert.Equal(1, metrics.JobsProvisioned.Value());
        Assert.Equal(1, metrics.JobsCompleted.Value("completed"));
        Assert.Equal(0, metrics.JobsCompleted.Value("failed"));
        Assert.Equal(1, metrics.PickupLatency.Count);
        var text = await metrics.RenderAsync();
        Assert.Contains("blip_pickup_latency_seconds_sum 5\n", text);
        Assert.Contains("blip_provisioning_duration_seconds_sum 3\n", text);
        Assert.Contains("blip_jobs_completed_total{outcome=\"expired\"} 0\n", text);
        Assert.Contains("blip_job_stage_duration_seconds_sum{stage=\"queued_to_claimed\",repo=\"org/repo\",labels=\"blip,self-hosted\"} 2\n", text);
        Assert.Contains("blip_job_stage_duration_seconds_sum{stage=\"claimed_to_runner_started\",repo=\"org/repo\",labels=\"blip,self-hosted\"} 3\n", text);
        Assert.Contains("blip_job_stage_duration_seconds_sum{stage=\"runner_started_to_finished\",repo=\"org/repo\",labels=\"blip,self-hosted\"} 4\n", text);
    }

    [Fact]
    public async Task The_runner_to_job_start_gap_and_the_job_itself_are_stages_by_repo_and_sorted_labels()
    {
        using var metrics = new BlipMetrics();
        await ReplayAsync(metrics, Job7(
            new JobEvents.RunnerStarted(T0.AddSeconds(5)),
            new JobEvents.RunnerJobStarted(T0.AddSeconds(7), 7),
            new JobEvents.JobFinished(JobOutcome.Completed, "runner finished", T0.AddSeconds(17))));

        var text = await metrics.RenderAsync();
        Assert.Contains(StageSample("sum", "runner_started_to_job_started") + "2\n", text);
        Assert.Contains(StageSample("count", "runner_started_to_job_started") + "1\n", text);
        Assert.Contains(StageSample("sum", "job_started_to_completed") + "10\n", text);
        Assert.Contains(StageSample("count", "job_started_to_completed") + "1\n", text);
        Assert.Contains(StageSample("sum", "runner_started_to_finished") + "12\n", text);
    }

    [Fact]
    public async Task A_job_started_before_its_runners_start_was_recorded_counts_as_no_gap_once_both_are_known()
    {
        using var metrics = new BlipMetrics();
        var gaps = new List<string>();

        await ReplayAsync(metrics, Job7(
            new JobEvents.RunnerJobStarted(T0.AddSeconds(4), 7), // the webhook came while the VM was being marked
            new JobEvents.RunnerStarted(T0.AddSeconds(5)),
            new JobEvents.JobFinished(JobOutcome.Completed, "runner finished", T0.AddSeconds(9))), async () =>
        {
            var lines = (await metrics.RenderAsync()).Split('\n');
            var count = lines.FirstOrDefault(l => l.StartsWith(StageSample("count", "runner_started_to_job_started"), StringComparison.Ordinal));
            var sum = lines.FirstOrDefault(l => l.StartsWith(StageSample("sum", "runner_started_to_job_started"), StringComparison.Ordinal));
            gaps.Add(count is null ? "none" : $"{count[^1..]} {sum![^1..]}");
        });

        Assert.Equal(["none", "none", "none", "none", "1 0", "1 0"], gaps);
        Assert.Contains(StageSample("sum", "job_started_to_completed") + "5\n", await metrics.RenderAsync());
    }

    /// <summary>Job 7 of org/repo (labels self-hosted, blip) queued at T0, its VM claimed at T0 + 2 s, runner blip-7-x
    /// registered; then <paramref name="rest"/>.</summary>
    private static IJobEvent[] Job7(params IJobEvent[] rest) =>
    [
        new JobEvents.JobSighted(7, "org/repo", ["self-hosted", "blip"], 1, T0, T0.AddSeconds(1)),
        new JobEvents.VmClaimed("blip-a", T0.AddSeconds(2)),
        new JobEvents.RunnerRegistered(9, "blip-7-x"),
        .. rest,
    ];

    /// <summary>Each event as the job actor publishes it: with the job's state after it.</summary>
    private static async Task ReplayAsync(BlipMetrics metrics, IJobEvent[] events, Func<Task>? afterEach = null)
    {
        var state = JobState.Empty;
        foreach (var e in events)
        {
            state = state.Apply(e);
            metrics.OnJobEvent(e, state);
            if (afterEach is not null)
            {
                await afterEach();
            }
        }
    }

    private static string StageSample(string part, string stage) =>
        $"blip_job_stage_duration_seconds_{part}{{stage=\"{stage}\",repo=\"org/repo\",labels=\"blip,self-hosted\"}} ";

    [Fact]
    public async Task The_oldest_waiting_job_per_label_set_is_a_sample_only_while_jobs_wait()
    {
        using var metrics = new BlipMetrics();
        metrics.OnWaitingJobs(new WaitingJobsAssessed([new("org/repo", "blip,self-hosted", 310), new("org/other", "blip,large,self-hosted", 12.5)]));

        var text = await metrics.RenderAsync();
        Assert.Contains("blip_oldest_waiting_job_age_seconds{repo=\"org/repo\",labels=\"blip,self-hosted\"} 310\n", text);
        Assert.Contains("blip_oldest_waiting_job_age_seconds{repo=\"org/other\",labels=\"blip,large,self-hosted\"} 12.5\n", text);

        metrics.OnWaitingJobs(new WaitingJobsAssessed([new("org/other", "blip,large,self-hosted", 15)]));
        text = await metrics.RenderAsync();
        Assert.DoesNotContain("blip_oldest_waiting_job_age_seconds{repo=\"org/repo\"", text);
        Assert.Contains("blip_oldest_waiting_job_age_seconds{repo=\"org/other\",labels=\"blip,large,self-hosted\"} 15\n", text);
    }

    [Fact]
    public async Task The_days_left_to_update_the_runner_are_one_sample_for_the_version_assessed()
    {
        using var metrics = new BlipMetrics();
        var currency = new RunnerCurrency("2.330.0", "2.331.0", 25, T0.AddDays(5), Warn: true);

        metrics.OnRunnerCurrency(new RunnerReleaseEvents.CurrencyAssessed(currency, 4.5));
        var text = await metrics.RenderAsync();
        metrics.OnRunnerCurrency(new RunnerReleaseEvents.CurrencyAssessed(null, null));
        var cleared = await metrics.RenderAsync();

        Assert.Contains("# TYPE blip_runner_release_days_left gauge\n", text);
        Assert.Contains("\nblip_runner_release_days_left{version=\"2.330.0\"} 4.5\n", text);
        Assert.DoesNotContain("\nblip_runner_release_days_left{", cleared);
    }

    [Fact]
    public async Task A_gauge_with_no_known_value_writes_no_sample()
    {
        using var metrics = new BlipMetrics();
        Assert.Contains("# TYPE blip_vms_claimed gauge\n", await metrics.RenderAsync());
        Assert.DoesNotContain("\nblip_vms_claimed ", await metrics.RenderAsync());

        metrics.VmsClaimed.Set(3);
        Assert.Contains("\nblip_vms_claimed 3\n", await metrics.RenderAsync());

        metrics.VmsClaimed.Set(null);
        Assert.DoesNotContain("\nblip_vms_claimed ", await metrics.RenderAsync());
    }

    [Fact]
    public async Task Every_metric_is_written_with_its_name_help_and_type()
    {
        using var metrics = new BlipMetrics();

        var text = await metrics.RenderAsync();

        Assert.All(metrics.All, m => Assert.Contains($"# HELP {m.Name} {m.Help}\n# TYPE {m.Name} {m.Type}\n", text));
        Assert.DoesNotContain("prometheus_net", text);
    }

    [Fact]
    public void Every_metric_family_has_a_unique_prometheus_name_on_the_blip_actors_meter()
    {
        using var metrics = new BlipMetrics();
        var names = metrics.All.Select(m => m.Name).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches("^blip_[a-z_]+$", n));
        Assert.All(metrics.All, m => Assert.Equal("Blip.Actors", m.Instrument.Meter.Name));
    }

    [Fact]
    public async Task Two_controllers_in_one_process_count_apart()
    {
        using var one = new BlipMetrics();
        using var other = new BlipMetrics();

        one.SshAttempts.Inc();

        Assert.Contains("blip_ssh_attempts_total 1\n", await one.RenderAsync());
        Assert.Contains("blip_ssh_attempts_total 0\n", await other.RenderAsync());
    }
}
