using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Blip.Actors.Inspection;

/// <summary>One metric family: knows its name, help and type, and writes itself in Prometheus text format 0.0.4.</summary>
public abstract class Metric(string name, string help, string type)
{
    public string Name { get; } = name;
    public string Help { get; } = help;
    public string Type { get; } = type;

    public void WriteTo(StringBuilder text)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(EscapeHelp(Help)).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
        WriteSamples(text);
    }

    protected abstract void WriteSamples(StringBuilder text);

    protected static void Sample(StringBuilder text, string name, IReadOnlyList<string> labelNames, IReadOnlyList<string> labelValues, double value)
    {
        text.Append(name);
        if (labelNames.Count > 0)
        {
            text.Append('{');
            for (var i = 0; i < labelNames.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                text.Append(labelNames[i]).Append("=\"").Append(EscapeLabel(labelValues[i])).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(FormatValue(value)).Append('\n');
    }

    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

/// <summary>A monotonically increasing count, optionally split by labels.</summary>
public sealed class Counter : Metric
{
    private readonly string[] _labelNames;
    private readonly ConcurrentDictionary<LabelValues, StrongBox> _series = new();

    public Counter(string name, string help, params string[] labelNames) : base(name, help, "counter")
    {
        _labelNames = labelNames;
        if (labelNames.Length == 0)
        {
            _series[LabelValues.None] = new StrongBox();
        }
    }

    public void Inc(params string[] labelValues) => Add(1, labelValues);

    public void Add(long amount, params string[] labelValues)
    {
        if (labelValues.Length != _labelNames.Length)
        {
            throw new ArgumentException($"{Name} takes {_labelNames.Length} label values, got {labelValues.Length}", nameof(labelValues));
        }

        var box = _series.GetOrAdd(new LabelValues(labelValues), _ => new StrongBox());
        Interlocked.Add(ref box.Value, amount);
    }

    public long Value(params string[] labelValues) =>
        _series.TryGetValue(new LabelValues(labelValues), out var box) ? Interlocked.Read(ref box.Value) : 0;

    protected override void WriteSamples(StringBuilder text)
    {
        foreach (var (labels, box) in _series.OrderBy(s => s.Key.Key, StringComparer.Ordinal))
        {
            Sample(text, Name, _labelNames, labels.Values, Interlocked.Read(ref box.Value));
        }
    }

    private sealed class StrongBox
    {
        public long Value;
    }
}

/// <summary>A value that goes up and down, set when scraped. Unknown (never set, or cleared): no sample.</summary>
public sealed class Gauge(string name, string help) : Metric(name, help, "gauge")
{
    private static readonly long Unknown = BitConverter.DoubleToInt64Bits(double.NaN);
    private long _bits = Unknown;

    public double? Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits)) is var v && !double.IsNaN(v) ? v : null;

    public void Set(double? value) => Interlocked.Exchange(ref _bits, value is { } v ? BitConverter.DoubleToInt64Bits(v) : Unknown);

    protected override void WriteSamples(StringBuilder text)
    {
        if (Value is { } value)
        {
            Sample(text, Name, [], [], value);
        }
    }
}

/// <summary>Observations counted into fixed cumulative buckets (upper bounds in seconds), plus sum and count.</summary>
public sealed class Histogram : Metric
{
    private static readonly string[] LeLabel = ["le"];
    private readonly double[] _bounds;
    private readonly long[] _counts;
    private readonly object _gate = new();
    private double _sum;
    private long _count;

    public Histogram(string name, string help, params double[] bounds) : base(name, help, "histogram")
    {
        _bounds = bounds.Order().ToArray();
        _counts = new long[_bounds.Length];
    }

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public void Observe(double value)
    {
        lock (_gate)
        {
            for (var i = 0; i < _bounds.Length; i++)
            {
                if (value <= _bounds[i])
                {
                    _counts[i]++;
                }
            }

            _sum += value;
            _count++;
        }
    }

    protected override void WriteSamples(StringBuilder text)
    {
        long[] counts;
        double sum;
        long count;
        lock (_gate)
        {
            counts = (long[])_counts.Clone();
            sum = _sum;
            count = _count;
        }

        for (var i = 0; i < _bounds.Length; i++)
        {
            Sample(text, Name + "_bucket", LeLabel, [FormatValue(_bounds[i])], counts[i]);
        }

        Sample(text, Name + "_bucket", LeLabel, ["+Inf"], count);
        Sample(text, Name + "_sum", [], [], sum);
        Sample(text, Name + "_count", [], [], count);
    }
}

/// <summary>Label values as a dictionary key.</summary>
internal readonly record struct LabelValues(string[] Values)
{
    public static readonly LabelValues None = new([]);

    public string Key => string.Join('\u0001', Values);

    public bool Equals(LabelValues other) => Values.AsSpan().SequenceEqual(other.Values);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var v in Values)
        {
            hash.Add(v, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }
}
