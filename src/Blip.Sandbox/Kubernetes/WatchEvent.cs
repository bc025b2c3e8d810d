using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Blip.Sandbox.Kubernetes;

/// <summary>One change in the store. <see cref="Previous"/> is the state before a MODIFIED (to tell
/// selector transitions apart); <see cref="Object"/> is never mutated after the event is made.</summary>
public sealed record WatchEvent(string Type, KubeResource Resource, string Namespace, JsonObject Object, JsonObject? Previous, long ResourceVersion)
{
    public const string Added = "ADDED";
    public const string Modified = "MODIFIED";
    public const string Deleted = "DELETED";
}

/// <summary>An open watch on the store: the events for one resource, namespace and selector, in
/// resourceVersion order. The store completes the channel when it drops watches (fault injection)
/// or shuts down; dispose to stop receiving.</summary>
public sealed class WatchSubscription : IDisposable
{
    private readonly Channel<WatchEvent> _channel = Channel.CreateUnbounded<WatchEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Action<WatchSubscription> _unsubscribe;

    internal WatchSubscription(KubeResource resource, string? ns, Selector selector, Action<WatchSubscription> unsubscribe)
    {
        Resource = resource;
        Namespace = ns;
        Selector = selector;
        _unsubscribe = unsubscribe;
    }

    public KubeResource Resource { get; }
    internal bool Droppable { get; init; } = true;
    public string? Namespace { get; }
    public Selector Selector { get; }
    public ChannelReader<WatchEvent> Events => _channel.Reader;

    /// <summary>What this watcher sees of a change: the event itself, or a synthetic ADDED/DELETED
    /// when the object moved into or out of the selector, or nothing.</summary>
    internal WatchEvent? Translate(WatchEvent e)
    {
        if (e.Resource != Resource || (Namespace is not null && e.Namespace != Namespace))
        {
            return null;
        }

        var now = Selector.Matches(e.Object);
        var before = e.Previous is not null && Selector.Matches(e.Previous);
        return e.Type switch
        {
            WatchEvent.Modified when now && before => e,
            WatchEvent.Modified when now => e with { Type = WatchEvent.Added },
            WatchEvent.Modified when before => e with { Type = WatchEvent.Deleted },
            WatchEvent.Modified => null,
            _ => now ? e : null,
        };
    }

    internal void Offer(WatchEvent e)
    {
        if (Translate(e) is { } seen)
        {
            _channel.Writer.TryWrite(seen);
        }
    }

    internal void Close() => _channel.Writer.TryComplete();

    public void Dispose()
    {
        _unsubscribe(this);
        Close();
    }
}
