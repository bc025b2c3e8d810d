using System.Globalization;
using System.Text.RegularExpressions;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>
/// A strict little reader of Prometheus text format 0.0.4: every line is a HELP, a TYPE or a sample
/// <c>name{labels} value</c>, and every sample belongs to a family announced by HELP and TYPE.
/// </summary>
public sealed partial class PrometheusText
{
    private readonly Dictionary<string, double> _samples = new(StringComparer.Ordinal);

    private PrometheusText()
    {
    }

    public IReadOnlyDictionary<string, string> Types { get; private set; } = new Dictionary<string, string>();

    /// <summary>A sample by its exact series text, e.g. <c>blip_jobs_completed_total{outcome="completed"}</c>.</summary>
    public double? Value(string series) => _samples.TryGetValue(series, out var v) ? v : null;

    public IEnumerable<string> Series => _samples.Keys;

    public static PrometheusText Parse(string text)
    {
        var result = new PrometheusText();
        var help = new HashSet<string>(StringComparer.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }

            var meta = Meta().Match(line);
            if (meta.Success)
            {
                var name = meta.Groups["name"].Value;
                if (meta.Groups["kind"].Value == "HELP")
                {
                    Assert.True(help.Add(name), $"line {lineNo}: second HELP for {name}");
                }
                else
                {
                    Assert.Contains(meta.Groups["rest"].Value, new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                    Assert.True(help.Contains(name), $"line {lineNo}: TYPE before HELP for {name}");
                    types[name] = meta.Groups["rest"].Value;
                }

                continue;
            }

            var sample = Sample().Match(line);
            Assert.True(sample.Success, $"line {lineNo} is not a sample: {line}");
            var metric = sample.Groups["name"].Value;
            var family = types.ContainsKey(metric) ? metric : FamilyOf(metric, types);
            Assert.True(family is not null, $"line {lineNo}: sample {metric} has no HELP/TYPE");
            var value = sample.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            var series = sample.Groups["series"].Value;
            Assert.True(result._samples.TryAdd(series, value), $"line {lineNo}: duplicate series {series}");
        }

        result.Types = types;
        return result;
    }

    private static string? FamilyOf(string metric, Dictionary<string, string> types)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (metric.EndsWith(suffix, StringComparison.Ordinal) && types.GetValueOrDefault(metric[..^suffix.Length]) == "histogram")
            {
                return metric[..^suffix.Length];
            }
        }

        return null;
    }

    [GeneratedRegex(@"^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<rest>.*)$")]
    private static partial Regex Meta();

    [GeneratedRegex("""^(?<series>(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*)?\})?) (?<value>[-+0-9.eE]+|\+Inf|-Inf|NaN)$""")]
    private static partial Regex Sample();
}
