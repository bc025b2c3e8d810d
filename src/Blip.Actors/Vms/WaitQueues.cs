using Akka.Actor;

namespace Blip.Actors.Vms;

/// <summary>The inventory's waiters: per pool a queue in arrival order, and those woken that have not asked again yet. A
/// waiter is in one place at a time: an offer takes it out (<see cref="Remove"/>), a woken one that finds no VM goes to the
/// end of the line, a queued one asking again keeps its place.</summary>
internal sealed class WaitQueues
{
    private readonly Dictionary<string, LinkedList<IActorRef>> _queues = [];
    private readonly Dictionary<string, int> _wokenPerPool = [];
    private readonly Dictionary<IActorRef, Entry> _entries = [];

    public sealed record Entry(string Pool, bool Woken, LinkedListNode<IActorRef>? Node);

    /// <summary>Queues the waiter: one already queued keeps its place (a retry is no reason to lose it), one woken that found
    /// no VM goes to the end. True when it is new here (to be watched).</summary>
    public bool Enqueue(IActorRef waiter, string pool)
    {
        if (_entries.TryGetValue(waiter, out var entry) && !entry.Woken && entry.Pool == pool)
        {
            return false;
        }

        var known = Remove(waiter) is not null;
        _entries[waiter] = new Entry(pool, false, Queue(pool).AddLast(waiter));
        return !known;
    }

    /// <summary>Forgets the waiter; what it was (queued or woken, and for which pool), or null if it was not here.</summary>
    public Entry? Remove(IActorRef waiter)
    {
        if (!_entries.Remove(waiter, out var entry))
        {
            return null;
        }

        if (entry.Node is { } node)
        {
            node.List?.Remove(node);
        }

        if (entry.Woken)
        {
            _wokenPerPool[entry.Pool]--;
        }

        return entry;
    }

    public bool AnyQueued(string pool) => _queues.TryGetValue(pool, out var queue) && queue.Count > 0;

    /// <summary>Moves the first of the pool's queue to woken until <paramref name="free"/> VMs have a waiter woken for them
    /// (those woken before and not back yet count); returns the ones to wake now.</summary>
    public List<IActorRef> WakeNext(string pool, int free)
    {
        var woken = new List<IActorRef>();
        if (!_queues.TryGetValue(pool, out var queue))
        {
            return woken;
        }

        var outstanding = _wokenPerPool.GetValueOrDefault(pool);
        while (outstanding < free && queue.First is { } first)
        {
            queue.RemoveFirst();
            _entries[first.Value] = new Entry(pool, true, null);
            outstanding++;
            woken.Add(first.Value);
        }

        _wokenPerPool[pool] = outstanding;
        return woken;
    }

    private LinkedList<IActorRef> Queue(string pool)
    {
        if (!_queues.TryGetValue(pool, out var queue))
        {
            _queues[pool] = queue = new LinkedList<IActorRef>();
        }

        return queue;
    }
}
