using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Blip.Actors.Shared;

/// <summary>
/// The mailbox of the actors that exist once per tracked job (the job actor and its VM claimer). Akka's default queue is
/// a <c>ConcurrentQueue</c>, whose first segment holds 32 envelopes — about 1 KiB per actor before any message arrives,
/// the largest single part of a waiting job's memory (dotnet-gcdump of the scale benchmark). These actors hold a message
/// or two at a time, so a lock around a queue that grows from empty costs about 100 bytes instead. Deque-based, as a
/// persistent actor's stash requires. Named by <see cref="Id"/>; every actor system that hosts these actors carries
/// <see cref="Hocon"/>.
/// </summary>
public sealed class LeanMailbox(Settings settings, Akka.Configuration.Config config)
    : MailboxType(settings, config), IProducesMessageQueue<LeanMessageQueue>
{
    public const string Id = "blip-lean-mailbox";

    /// <summary>The configuration that makes <see cref="Id"/> a mailbox.</summary>
    public const string Hocon = Id + ".mailbox-type = \"Blip.Actors.Shared.LeanMailbox, Blip.Actors\"";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new LeanMessageQueue();
}

/// <summary>
/// An unbounded double-ended message queue behind one lock: any thread enqueues; the actor's own thread dequeues and,
/// when its stash is unstashed, puts envelopes back in front (<see cref="EnqueueFirst"/>, last put back comes out first,
/// as Akka's own deque does).
/// </summary>
public sealed class LeanMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    private readonly Lock _gate = new();
    private readonly Queue<Envelope> _queue = new();
    private Stack<Envelope>? _front;

    public bool HasMessages => Count > 0;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count + (_front?.Count ?? 0);
            }
        }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_gate)
        {
            _queue.Enqueue(envelope);
        }
    }

    public void EnqueueFirst(Envelope envelope)
    {
        lock (_gate)
        {
            (_front ??= new Stack<Envelope>()).Push(envelope);
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_gate)
        {
            if (_front is { Count: > 0 })
            {
                envelope = _front.Pop();
                return true;
            }

            return _queue.TryDequeue(out envelope);
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
        {
            deadletters.Enqueue(owner, envelope);
        }
    }
}
