using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>
/// A <c>/metrics</c> page as the Prometheus project's own Python client parses it
/// (<c>prometheus_client.parser</c>, Debian's python3-prometheus-client, installed by .ci/prereqs): a page it cannot
/// parse fails the test with the parser's error.
/// </summary>
public sealed class PrometheusText
{
    /// <summary>Debian's interpreter, where the Debian package installs the module (a pyenv python3 on PATH lacks it).</summary>
    private const string Python = "/usr/bin/python3";

    private const string ParseScript = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = [{"name": f.name, "type": f.type, "help": f.documentation,
                     "samples": [{"name": s.name, "labels": s.labels, "value": repr(float(s.value))} for s in f.samples]}
                    for f in text_string_to_metric_families(sys.stdin.read())]
        json.dump(families, sys.stdout)
        """;

    private readonly Dictionary<string, double> _samples = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _help = new(StringComparer.Ordinal);

    private PrometheusText()
    {
    }

    /// <summary>Family name → type. The parser reads a counter the OpenMetrics way (family <c>x</c>, samples
    /// <c>x_total</c>): here it is named as exposed, <c>x_total</c>.</summary>
    public IReadOnlyDictionary<string, string> Types => _types;

    public IReadOnlyDictionary<string, string> Help => _help;

    /// <summary>A sample by its series text, e.g. <c>blip_jobs_completed_total{outcome="completed"}</c> (labels in page order).</summary>
    public double? Value(string series) => _samples.TryGetValue(series, out var v) ? v : null;

    public IEnumerable<string> Series => _samples.Keys;

    public static async Task<PrometheusText> ParseAsync(string text)
    {
        using var json = JsonDocument.Parse(await RunParserAsync(text));
        var result = new PrometheusText();
        foreach (var family in json.RootElement.EnumerateArray())
        {
            var type = family.GetProperty("type").GetString()!;
            var name = family.GetProperty("name").GetString()!;
            var exposed = type == "counter" ? name + "_total" : name;
            Assert.True(result._types.TryAdd(exposed, type), $"family {exposed} appears twice");
            result._help[exposed] = family.GetProperty("help").GetString()!;
            foreach (var sample in family.GetProperty("samples").EnumerateArray())
            {
                var labels = sample.GetProperty("labels").EnumerateObject().Select(l => $"{l.Name}=\"{Escape(l.Value.GetString()!)}\"").ToList();
                var series = sample.GetProperty("name").GetString() + (labels.Count == 0 ? "" : "{" + string.Join(',', labels) + "}");
                Assert.True(result._samples.TryAdd(series, ParseValue(sample.GetProperty("value").GetString()!)), $"duplicate series {series}");
            }
        }

        return result;
    }

    private static async Task<string> RunParserAsync(string text)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: install python3 and python3-prometheus-client (.ci/prereqs does)");
        var start = new ProcessStartInfo(Python, ["-c", ParseScript])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(hang.Token);
        var error = await stderr;
        Assert.False(error.Contains("No module named 'prometheus_client'", StringComparison.Ordinal),
            "python3-prometheus-client is not installed: run .ci/prereqs (or apt-get install python3-prometheus-client)");
        Assert.True(process.ExitCode == 0, $"prometheus_client.parser rejected /metrics: {error}");
        return await stdout;
    }

    private static double ParseValue(string value) => value switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
