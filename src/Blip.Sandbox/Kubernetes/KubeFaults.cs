using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// Fault injection for tests: a share of requests per verb/resource answered 500, added latency,
/// and dropping every open watch. Settable in-process or with PUT /_sandbox/faults
/// <c>{"errors":[{"verb":"update","resource":"virtualmachines","rate":0.5}],"latencyMs":200,"dropWatches":true}</c>.
/// </summary>
public sealed class KubeFaults
{
    private readonly Lock _gate = new();
    private List<ErrorRule> _errors = [];
    private TimeSpan _latency;
    private long _injected;

    /// <summary>Verb or resource null = any.</summary>
    public sealed record ErrorRule(string? Verb, string? Resource, double Rate);

    public TimeSpan Latency
    {
        get { lock (_gate) return _latency; }
        set { lock (_gate) _latency = value; }
    }

    public IReadOnlyList<ErrorRule> Errors
    {
        get { lock (_gate) return _errors; }
        set { lock (_gate) _errors = value.ToList(); }
    }

    /// <summary>Requests failed by an error rule so far: shows that a fault was met, not only set.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    public void Clear()
    {
        lock (_gate)
        {
            _errors = [];
            _latency = TimeSpan.Zero;
        }
    }

    internal bool ShouldFail(string verb, string resource)
    {
        var rules = Errors;
        var fail = rules.Any(r => (r.Verb is null || r.Verb == verb) && (r.Resource is null || r.Resource == resource) &&
                                  Random.Shared.NextDouble() < r.Rate);
        if (fail) Interlocked.Increment(ref _injected);
        return fail;
    }

    /// <summary>Applies a PUT /_sandbox/faults body; returns whether it asked to drop watches.</summary>
    internal bool Apply(JsonObject body)
    {
        if (body["errors"] is JsonArray errors)
        {
            Errors = errors.OfType<JsonObject>()
                .Select(e => new ErrorRule(e["verb"]?.GetValue<string>(), e["resource"]?.GetValue<string>(), e["rate"]?.GetValue<double>() ?? 1.0))
                .ToList();
        }
        if (body["latencyMs"] is { } latency) Latency = TimeSpan.FromMilliseconds(latency.GetValue<double>());
        return body["dropWatches"]?.GetValue<bool>() == true;
    }

    internal JsonObject ToJson() => new()
    {
        ["errors"] = new JsonArray(Errors.Select(e => (JsonNode)new JsonObject { ["verb"] = e.Verb, ["resource"] = e.Resource, ["rate"] = e.Rate }).ToArray()),
        ["latencyMs"] = Latency.TotalMilliseconds,
    };
}
