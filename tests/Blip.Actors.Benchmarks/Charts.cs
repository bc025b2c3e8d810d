using ScottPlot;

namespace Blip.Actors.Benchmarks;

/// <summary>The PNGs of a run: pickup-latency distributions and the burst timelines.</summary>
public static class Charts
{
    private const int Width = 900;
    private const int Height = 520;

    /// <summary>Cumulative distribution of pickup latency, one line per profile.</summary>
    public static string PickupDistribution(string outDir, string scenario, IReadOnlyDictionary<string, List<double>> latencies)
    {
        var plot = new Plot();
        foreach (var (profile, values) in latencies)
        {
            if (values.Count == 0)
            {
                continue;
            }

            var sorted = values.Order().ToArray();
            var ys = Enumerable.Range(1, sorted.Length).Select(i => 100.0 * i / sorted.Length).ToArray();
            var line = plot.Add.Scatter(sorted, ys);
            line.LegendText = $"{profile} (n={sorted.Length}, p50 {Stats.Percentile(sorted, 50):F2} s)";
            line.LineWidth = 2;
        }

        plot.Title($"{scenario}: pickup latency (queued → runner took the job)");
        plot.XLabel("seconds");
        plot.YLabel("% of jobs started within");
        plot.Axes.SetLimitsY(0, 100);
        plot.Axes.SetLimitsX(0, Math.Max(1, latencies.Values.SelectMany(v => v).DefaultIfEmpty(1).Max() * 1.05));
        plot.ShowLegend(Alignment.LowerRight);
        var name = $"{scenario}-latency.png";
        plot.SavePng(Path.Combine(outDir, name), Width, Height);
        return name;
    }

    /// <summary>Queued, running and completed jobs over time, one chart per profile.</summary>
    public static string BurstTimeline(string outDir, string profile, IReadOnlyList<TimelinePoint> timeline)
    {
        var plot = new Plot();
        var xs = timeline.Select(p => p.Seconds).ToArray();
        foreach (var (label, ys) in new[]
                 {
                     ("queued", timeline.Select(p => (double)p.Queued).ToArray()),
                     ("running", timeline.Select(p => (double)p.Running).ToArray()),
                     ("completed", timeline.Select(p => (double)p.Completed).ToArray()),
                 })
        {
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = label;
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }

        plot.Title($"burst, profile {profile}: jobs by state over time");
        plot.XLabel("seconds since the first job was queued");
        plot.YLabel("jobs");
        plot.ShowLegend(Alignment.MiddleRight);
        var name = $"burst-timeline-{profile}.png";
        plot.SavePng(Path.Combine(outDir, name), Width, Height);
        return name;
    }
}
