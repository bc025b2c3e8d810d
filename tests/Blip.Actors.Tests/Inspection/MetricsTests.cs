using Blip.Actors.Inspection;
using Blip.Actors.Jobs;

namespace Blip.Actors.Tests.Inspection;

public sealed class MetricsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_labelled_counter_renders_help_type_and_one_sample_per_label_set()
    {
        var counter = new Counter("blip_test_total", "Things.", "endpoint", "status");
        counter.Inc("list", "ok");
        counter.Inc("list", "ok");
        counter.Inc("get", "404");

        var text = Render(counter);

        Assert.Equal(
            "# HELP blip_test_total Things.\n# TYPE blip_test_total counter\n" +
            "blip_test_total{endpoint=\"get\",status=\"404\"} 1\nblip_test_total{endpoint=\"list\",status=\"ok\"} 2\n",
            text);
    }

    [Fact]
    public void Label_values_are_escaped()
    {
        var counter = new Counter("blip_test_total", "Things.", "reason");
        counter.Inc("a \"quoted\"\\path\nnext");

        Assert.Contains("blip_test_total{reason=\"a \\\"quoted\\\"\\\\path\\nnext\"} 1\n", Render(counter));
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_an_inf_bucket_sum_and_count()
    {
        var histogram = new Histogram("blip_latency_seconds", "Latency.", 1, 5);
        histogram.Observe(0.5);
        histogram.Observe(3);
        histogram.Observe(10);

        var text = Render(histogram);

        Assert.Contains("blip_latency_seconds_bucket{le=\"1\"} 1\n", text);
        Assert.Contains("blip_latency_seconds_bucket{le=\"5\"} 2\n", text);
        Assert.Contains("blip_latency_seconds_bucket{le=\"+Inf\"} 3\n", text);
        Assert.Contains("blip_latency_seconds_sum 13.5\n", text);
        Assert.Contains("blip_latency_seconds_count 3\n", text);
        Assert.Contains("# TYPE blip_latency_seconds histogram\n", text);
    }

    [Fact]
    public void Job_events_move_the_lifecycle_counters_and_latency_histograms()
    {
        var metrics = new BlipMetrics();
        var state = JobState.Empty;
        IJobEvent[] events =
        [
            new JobEvents.JobSighted(7, "org/repo", ["self-hosted", "blip"], 1, T0, T0.AddSeconds(1)),
            new JobEvents.VmClaimed("blip-a", T0.AddSeconds(2)),
            new JobEvents.RunnerRegistered(9, "blip-7-x"),
            new JobEvents.RunnerStarted(T0.AddSeconds(5)),
            new JobEvents.JobFinished(JobOutcome.Completed, "runner finished", T0.AddSeconds(9)),
            new JobEvents.VmReleased("blip-a", T0.AddSeconds(10)),
        ];
        foreach (var e in events)
        {
            state = state.Apply(e);
            metrics.OnJobEvent(e, state);
        }

        Assert.Equal(1, metrics.JobsSeen.Value());
        Assert.Equal(1, metrics.JobsClaimed.Value());
        Assert.Equal(1, metrics.JobsProvisioned.Value());
        Assert.Equal(1, metrics.JobsCompleted.Value("completed"));
        Assert.Equal(0, metrics.JobsCompleted.Value("failed"));
        Assert.Equal(1, metrics.PickupLatency.Count);
        var text = metrics.Render();
        Assert.Contains("blip_pickup_latency_seconds_sum 5\n", text);
        Assert.Contains("blip_provisioning_duration_seconds_sum 3\n", text);
        Assert.Contains("blip_jobs_completed_total{outcome=\"expired\"} 0\n", text);
    }

    [Fact]
    public void A_gauge_with_no_known_value_writes_no_sample()
    {
        var gauge = new Gauge("blip_test", "Test.");
        Assert.Equal("# HELP blip_test Test.\n# TYPE blip_test gauge\n", Render(gauge));

        gauge.Set(3);
        Assert.EndsWith("blip_test 3\n", Render(gauge));

        gauge.Set(null);
        Assert.Equal("# HELP blip_test Test.\n# TYPE blip_test gauge\n", Render(gauge));
    }

    [Fact]
    public void Every_metric_family_has_a_unique_prometheus_name()
    {
        var names = new BlipMetrics().All.Select(m => m.Name).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches("^blip_[a-z_]+$", n));
    }

    private static string Render(Metric metric)
    {
        var text = new System.Text.StringBuilder();
        metric.WriteTo(text);
        return text.ToString();
    }
}
