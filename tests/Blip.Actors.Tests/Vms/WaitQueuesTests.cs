using Akka.Actor;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Vms;

/// <summary>Who the inventory wakes: first come first, one per free VM, those woken and not back yet counted.</summary>
public sealed class WaitQueuesTests
{
    private static readonly IActorRef A = new FakeRef("a");
    private static readonly IActorRef B = new FakeRef("b");
    private static readonly IActorRef C = new FakeRef("c");

    [Fact]
    public void Free_vms_wake_that_many_waiters_in_arrival_order_and_those_not_back_yet_count()
    {
        var queues = new WaitQueues();
        Assert.True(queues.Enqueue(A, "blip"));
        Assert.True(queues.Enqueue(B, "blip"));
        Assert.True(queues.Enqueue(C, "blip"));

        Assert.Equal([A], queues.WakeNext("blip", free: 1));
        // The same VM seen again: A is still on its way, no one else is woken for it.
        Assert.Empty(queues.WakeNext("blip", free: 1));
        Assert.Equal([B, C], queues.WakeNext("blip", free: 3));
    }

    [Fact]
    public void A_woken_waiter_that_found_no_vm_goes_to_the_end_and_one_gone_frees_its_turn()
    {
        var queues = new WaitQueues();
        queues.Enqueue(A, "blip");
        queues.Enqueue(B, "blip");
        Assert.Equal([A], queues.WakeNext("blip", free: 1));

        Assert.False(queues.Enqueue(A, "blip"));
        Assert.Equal([B], queues.WakeNext("blip", free: 1));
        Assert.Equal(new WaitQueues.Entry("blip", true, null), queues.Remove(B));
        Assert.Equal([A], queues.WakeNext("blip", free: 1));
        Assert.Null(queues.Remove(C));
    }

    [Fact]
    public void Pools_have_their_own_lines()
    {
        var queues = new WaitQueues();
        queues.Enqueue(A, "blip");
        queues.Enqueue(B, "blip-large");

        Assert.True(queues.AnyQueued("blip-large"));
        Assert.Equal([B], queues.WakeNext("blip-large", free: 5));
        Assert.False(queues.AnyQueued("blip-large"));
        Assert.True(queues.AnyQueued("blip"));
    }

    private sealed class FakeRef(string name) : MinimalActorRef
    {
        public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "test")) / name;

        public override IActorRefProvider Provider => throw new NotSupportedException();
    }
}
