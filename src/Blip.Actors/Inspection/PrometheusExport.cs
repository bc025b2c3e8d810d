using System.Diagnostics.Metrics;
using Prometheus;

namespace Blip.Actors.Inspection;

/// <summary>
/// The node's <see cref="Meter"/> in Prometheus text format, written by prometheus-net from its own registry. A
/// <see cref="MeterListener"/> that hears only this node's meter (several controllers share a process in the tests)
/// feeds one prometheus-net family per <see cref="Metric"/>, declared up front with today's name, help, type, labels and
/// buckets.
/// </summary>
/// <remarks>prometheus-net's own <c>MeterAdapter</c> is not used: it prefixes names with the meter's name, exports
/// counters as gauges, appends the instrument type to the help text and drops series idle for five minutes, so
/// dashboards would break.</remarks>
public sealed class PrometheusExport : IDisposable
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly Dictionary<Instrument, (Metric Metric, Collector Family)> _families = [];
    private readonly List<Gauge> _gauges = [];
    private readonly MeterListener _listener = new();

    public PrometheusExport(Meter meter, IEnumerable<Metric> metrics)
    {
        var factory = Metrics.WithCustomRegistry(_registry);
        foreach (var metric in metrics)
        {
            var labels = metric.LabelNames.ToArray();
            Collector family = metric switch
            {
                CounterMetric => factory.CreateCounter(metric.Name, metric.Help, labels),
                // Unknown until set: no sample rather than a made-up 0.
                GaugeMetric or GaugeSetMetric => factory.CreateGauge(metric.Name, metric.Help, labels, new GaugeConfiguration { SuppressInitialValue = true }),
                HistogramMetric h => factory.CreateHistogram(metric.Name, metric.Help, labels, new HistogramConfiguration { Buckets = [.. h.Bounds] }),
                _ => throw new ArgumentException($"{metric.Name}: no Prometheus family for {metric.GetType().Name}", nameof(metrics)),
            };
            _families.Add(metric.Instrument, (metric, family));
            if (family is Gauge gauge)
            {
                _gauges.Add(gauge);
            }
        }

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == meter && _families.ContainsKey(instrument))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
        _registry.AddBeforeCollectCallback(() =>
        {
            // A gauge unknown now (cleared since the last scrape) writes no sample: only what is observed now is published.
            foreach (var gauge in _gauges)
            {
                if (gauge.LabelNames.Length == 0)
                {
                    gauge.WithLabels().Unpublish();
                    continue;
                }

                foreach (var labels in gauge.GetAllLabelValues().ToList())
                {
                    gauge.WithLabels(labels).Unpublish();
                }
            }

            _listener.RecordObservableInstruments();
        });
    }

    /// <summary>Every family in Prometheus text format 0.0.4.</summary>
    public async Task<string> RenderAsync(CancellationToken ct = default)
    {
        using var text = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(text, ExpositionFormat.PrometheusText, ct).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length);
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_families.TryGetValue(instrument, out var entry))
        {
            return;
        }

        var labels = entry.Metric.LabelValuesOf(tags);
        switch (entry.Family)
        {
            case Counter counter:
                counter.WithLabels(labels).Inc(value);
                break;
            case Gauge gauge:
                gauge.WithLabels(labels).Set(value);
                break;
            case Histogram histogram:
                histogram.WithLabels(labels).Observe(value);
                break;
        }
    }
}
