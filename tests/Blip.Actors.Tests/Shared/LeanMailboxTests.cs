using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Shared;

/// <summary>The mailbox of the per-job actors: a plain FIFO, envelopes put back in front come out first (last put back
/// first, as Akka's own deque), nothing lost between many senders and one reader, and a persistent actor's stash works on
/// it.</summary>
public sealed class LeanMailboxTests() : TestKit(LeanMailbox.Hocon + "\n" + """
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)
{
    [Fact]
    public void Messages_come_out_in_the_order_they_went_in()
    {
        var queue = new LeanMessageQueue();
        foreach (var i in Enumerable.Range(1, 40))
        {
            queue.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));
        }

        Assert.Equal(40, queue.Count);
        Assert.Equal(Enumerable.Range(1, 40), Drain(queue).Cast<int>());
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public void Envelopes_put_back_in_front_come_out_first_last_put_back_first()
    {
        var queue = new LeanMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope(3, ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope(2, ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope(1, ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope(4, ActorRefs.NoSender));

        Assert.Equal(4, queue.Count);
        Assert.Equal<int>([1, 2, 3, 4], Drain(queue).Cast<int>());
    }

    [Fact]
    public async Task Many_senders_and_one_reader_lose_nothing_and_keep_each_senders_order()
    {
        const int senders = 4;
        const int each = 20_000;
        var queue = new LeanMessageQueue();
        var received = new List<(int Sender, int Seq)>(senders * each);
        var producing = Enumerable.Range(0, senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < each; i++)
            {
                queue.Enqueue(ActorRefs.Nobody, new Envelope((s, i), ActorRefs.NoSender));
            }
        })).ToArray();
        var done = Task.WhenAll(producing);
        while (!done.IsCompleted || queue.HasMessages)
        {
            if (queue.TryDequeue(out var envelope))
            {
                received.Add(((int, int))envelope.Message);
            }
        }

        await done;
        Assert.Equal(senders * each, received.Count);
        Assert.All(received.GroupBy(r => r.Sender), g => Assert.Equal(Enumerable.Range(0, each), g.Select(r => r.Seq)));
    }

    [Fact]
    public void Clean_up_hands_every_envelope_to_dead_letters()
    {
        var queue = new LeanMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope("a", ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope("b", ActorRefs.NoSender));
        var deadLetters = new LeanMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.False(queue.HasMessages);
        Assert.Equal<string>(["b", "a"], Drain(deadLetters).Cast<string>());
    }

    [Fact]
    public void The_per_job_actors_ask_for_it_and_the_actor_system_makes_it_theirs()
    {
        Assert.Equal(LeanMailbox.Id, JobActor.Props("1", null!).Mailbox);
        Assert.Equal(LeanMailbox.Id, VmClaimer.Props(1, JobState.Empty with { Repo = new RepoName("o", "r"), Pool = "p" }, null!).Mailbox);
        Assert.IsType<LeanMailbox>(Sys.Mailboxes.Lookup(LeanMailbox.Id));
        Assert.IsType<LeanMessageQueue>(Sys.Mailboxes.Lookup(LeanMailbox.Id).Create(ActorRefs.Nobody, Sys));
        Assert.True(typeof(IUnboundedDequeBasedMessageQueueSemantics).IsAssignableFrom(typeof(LeanMessageQueue)));
    }

    [Fact]
    public void A_persistent_actor_on_it_stashes_while_persisting_and_handles_everything_in_order()
    {
        var actor = Sys.ActorOf(Akka.Actor.Props.Create(() => new Recorder(TestActor)).WithMailbox(LeanMailbox.Id));

        foreach (var i in Enumerable.Range(1, 50))
        {
            actor.Tell(i);
        }

        Assert.Equal(Enumerable.Range(1, 50), Enumerable.Range(1, 50).Select(_ => ExpectMsg<int>()));
    }

    private static List<object> Drain(IMessageQueue queue)
    {
        var all = new List<object>();
        while (queue.TryDequeue(out var envelope))
        {
            all.Add(envelope.Message);
        }

        return all;
    }

    /// <summary>Persists each number (commands that arrive meanwhile are stashed by Akka) and reports it once written.</summary>
    private sealed class Recorder : UntypedPersistentActor
    {
        private readonly IActorRef _report;

        public Recorder(IActorRef report) => _report = report;

        public override string PersistenceId => "lean-mailbox-recorder";

        protected override void OnCommand(object message)
        {
            if (message is int n)
            {
                Persist(n, written => _report.Tell(written));
            }
        }

        protected override void OnRecover(object message)
        {
        }
    }
}
