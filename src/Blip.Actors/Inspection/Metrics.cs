using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Blip.Actors.Inspection;

/// <summary>One metric family on the node's <see cref="Meter"/>: its Prometheus name (the instrument's name), help text
/// (its description), type and label names, which <see cref="PrometheusExport"/> keeps as they are.</summary>
public abstract class Metric(string name, string help, string type, IReadOnlyList<string> labelNames)
{
    public string Name { get; } = name;
    public string Help { get; } = help;
    public string Type { get; } = type;
    public IReadOnlyList<string> LabelNames { get; } = labelNames;

    public abstract Instrument Instrument { get; }

    /// <summary>The label values of a measurement's tags, in <see cref="LabelNames"/> order.</summary>
    public string[] LabelValuesOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var values = new string[LabelNames.Count];
        foreach (var (key, value) in tags)
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (LabelNames[i] == key)
                {
                    values[i] = value as string ?? value?.ToString() ?? "";
                }
            }
        }

        return values;
    }

    protected TagList Tags(string[] labelValues)
    {
        if (labelValues.Length != LabelNames.Count)
        {
            throw new ArgumentException($"{Name} takes {LabelNames.Count} label values, got {labelValues.Length}", nameof(labelValues));
        }

        var tags = new TagList();
        for (var i = 0; i < labelValues.Length; i++)
        {
            tags.Add(LabelNames[i], labelValues[i]);
        }

        return tags;
    }
}

/// <summary>A monotonically increasing count (a <see cref="Counter{T}"/>), optionally split by labels; it also keeps
/// its counts so the code and tests can read them (<see cref="Value"/>).</summary>
public sealed class CounterMetric : Metric
{
    private readonly Counter<long> _counter;
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public CounterMetric(Meter meter, string name, string help, params string[] labelNames) : base(name, help, "counter", labelNames) =>
        _counter = meter.CreateCounter<long>(name, unit: null, description: help);

    public override Instrument Instrument => _counter;

    public void Inc(params string[] labelValues) => Add(1, labelValues);

    public void Add(long amount, params string[] labelValues)
    {
        var tags = Tags(labelValues);
        _counts.AddOrUpdate(Key(labelValues), amount, (_, n) => n + amount);
        _counter.Add(amount, tags);
    }

    public long Value(params string[] labelValues) => _counts.GetValueOrDefault(Key(labelValues));

    private static string Key(string[] labelValues) => string.Join('\u0001', labelValues);
}

/// <summary>A value that goes up and down, set when scraped and observed through an <see cref="ObservableGauge{T}"/>.
/// Unknown (never set, or cleared): no measurement, so no sample.</summary>
public sealed class GaugeMetric : Metric
{
    private static readonly long Unknown = BitConverter.DoubleToInt64Bits(double.NaN);
    private readonly ObservableGauge<double> _gauge;
    private long _bits = Unknown;

    public GaugeMetric(Meter meter, string name, string help) : base(name, help, "gauge", []) =>
        _gauge = meter.CreateObservableGauge(name, Observe, unit: null, description: help);

    public override Instrument Instrument => _gauge;

    public double? Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits)) is var v && !double.IsNaN(v) ? v : null;

    public void Set(double? value) => Interlocked.Exchange(ref _bits, value is { } v ? BitConverter.DoubleToInt64Bits(v) : Unknown);

    private IEnumerable<Measurement<double>> Observe() => Value is { } value ? [new Measurement<double>(value)] : [];
}

/// <summary>A gauge with one sample per label set, replaced as a whole: a label set left out has no sample (what holds now,
/// e.g. the oldest waiting job per repo and label set while some job waits).</summary>
public sealed class GaugeSetMetric : Metric
{
    private readonly ObservableGauge<double> _gauge;
    private IReadOnlyList<(string[] Labels, double Value)> _samples = [];

    public GaugeSetMetric(Meter meter, string name, string help, params string[] labelNames) : base(name, help, "gauge", labelNames) =>
        _gauge = meter.CreateObservableGauge(name, Observe, unit: null, description: help);

    public override Instrument Instrument => _gauge;

    public IReadOnlyList<(string[] Labels, double Value)> Samples => Volatile.Read(ref _samples);

    public void Replace(IEnumerable<(string[] Labels, double Value)> samples)
    {
        var list = samples.ToList();
        foreach (var (labels, _) in list)
        {
            _ = Tags(labels); // the label count is checked now, not at the next scrape
        }

        Volatile.Write(ref _samples, list);
    }

    private IEnumerable<Measurement<double>> Observe() => Samples.Select(s => new Measurement<double>(s.Value, Tags(s.Labels)));
}

/// <summary>Observations in seconds (a <see cref="Histogram{T}"/> whose bucket bounds travel as the instrument's advice,
/// so every exporter buckets alike), optionally split by labels; it also counts them (<see cref="Count"/>).</summary>
public sealed class HistogramMetric : Metric
{
    private readonly Histogram<double> _histogram;
    private long _count;

    public HistogramMetric(Meter meter, string name, string help, params double[] bounds)
        : this(meter, name, help, [], bounds)
    {
    }

    public HistogramMetric(Meter meter, string name, string help, string[] labelNames, double[] bounds) : base(name, help, "histogram", labelNames)
    {
        Bounds = bounds.Order().ToArray();
        _histogram = meter.CreateHistogram(name, unit: "s", description: help, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Bounds });
    }

    public override Instrument Instrument => _histogram;

    public IReadOnlyList<double> Bounds { get; }

    public long Count => Interlocked.Read(ref _count);

    public void Observe(double value, params string[] labelValues)
    {
        var tags = Tags(labelValues);
        Interlocked.Increment(ref _count);
        _histogram.Record(value, tags);
    }
}
