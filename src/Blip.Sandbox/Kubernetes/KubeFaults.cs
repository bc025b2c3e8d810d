using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// Fault injection for tests: a share of requests per verb/resource answered 500, added latency,
/// dropping every open watch, and holding one kind's watch events back. Settable in-process or with PUT /_sandbox/faults
/// <c>{"errors":[{"verb":"update","resource":"virtualmachines","rate":0.5}],"latencyMs":200,"dropWatches":true,"heldWatches":["virtualmachineinstances"]}</c>.
/// </summary>
/// <remarks>
/// Held watches: the API server streams each kind's watch on its own, so a client's watches of two kinds are never in
/// step (one kind's watch cache lagging behind, its stream stalled on a busy connection). While a kind is held its open
/// watches send nothing, bookmarks included (a bookmark would claim progress past the held events); released, they send
/// everything held, in order.
/// </remarks>
public sealed class KubeFaults
{
    private readonly Lock _gate = new();
    private List<ErrorRule> _errors = [];
    private TimeSpan _latency;
    private readonly Dictionary<string, TaskCompletionSource> _held = new(StringComparer.Ordinal);
    private long _injected;

    /// <summary>Verb or resource null = any.</summary>
    public sealed record ErrorRule(string? Verb, string? Resource, double Rate);

    public TimeSpan Latency
    {
        get
        {
            lock (_gate)
            {
                return _latency;
            }
        }
        set
        {
            lock (_gate)
            {
                _latency = value;
            }
        }
    }

    public IReadOnlyList<ErrorRule> Errors
    {
        get
        {
            lock (_gate)
            {
                return _errors;
            }
        }
        set
        {
            lock (_gate)
            {
                _errors = value.ToList();
            }
        }
    }

    /// <summary>Plurals whose watches are held.</summary>
    public IReadOnlyList<string> HeldWatches
    {
        get
        {
            lock (_gate)
            {
                return _held.Keys.Order(StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>Open and new watches of <paramref name="plural"/> send nothing until <see cref="ReleaseWatches"/>.</summary>
    public void HoldWatches(string plural)
    {
        lock (_gate)
        {
            _held.TryAdd(plural, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    public void ReleaseWatches(string plural)
    {
        TaskCompletionSource? held;
        lock (_gate)
        {
            _held.Remove(plural, out held);
        }

        held?.TrySetResult();
    }

    /// <summary>Requests failed by an error rule so far: shows that a fault was met, not only set.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    public void Clear()
    {
        List<TaskCompletionSource> held;
        lock (_gate)
        {
            _errors = [];
            _latency = TimeSpan.Zero;
            held = [.. _held.Values];
            _held.Clear();
        }
        foreach (var h in held)
        {
            h.TrySetResult();
        }
    }

    internal bool WatchesHeld(string plural)
    {
        lock (_gate)
        {
            return _held.ContainsKey(plural);
        }
    }

    /// <summary>Completes once watches of <paramref name="plural"/> may send again (at once when not held).</summary>
    internal Task WatchesFlowAsync(string plural, CancellationToken ct)
    {
        lock (_gate)
        {
            return _held.TryGetValue(plural, out var held) ? held.Task.WaitAsync(ct) : Task.CompletedTask;
        }
    }

    internal bool ShouldFail(string verb, string resource)
    {
        var rules = Errors;
        var fail = rules.Any(r => (r.Verb is null || r.Verb == verb) && (r.Resource is null || r.Resource == resource) &&
                                  Random.Shared.NextDouble() < r.Rate);
        if (fail)
        {
            Interlocked.Increment(ref _injected);
        }

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
        if (body["latencyMs"] is { } latency)
        {
            Latency = TimeSpan.FromMilliseconds(latency.GetValue<double>());
        }

        if (body["heldWatches"] is JsonArray heldWatches)
        {
            var wanted = heldWatches.Select(h => h?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var plural in HeldWatches.Where(p => !wanted.Contains(p)))
            {
                ReleaseWatches(plural);
            }

            foreach (var plural in wanted)
            {
                HoldWatches(plural);
            }
        }
        return body["dropWatches"]?.GetValue<bool>() == true;
    }

    internal JsonObject ToJson() => new()
    {
        ["errors"] = new JsonArray(Errors.Select(e => (JsonNode)new JsonObject { ["verb"] = e.Verb, ["resource"] = e.Resource, ["rate"] = e.Rate }).ToArray()),
        ["latencyMs"] = Latency.TotalMilliseconds,
        ["heldWatches"] = new JsonArray(HeldWatches.Select(h => (JsonNode)JsonValue.Create(h)).ToArray()),
    };
}
