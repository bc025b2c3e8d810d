using Akka.Actor;
using Akka.Cluster;

namespace Blip.Actors.Inspection;

/// <summary>
/// The last <see cref="Capacity"/> membership, reachability and leader changes this node saw, numbered, so
/// <c>blipctl cluster tail</c> can poll for what came after the last one it printed.
/// </summary>
public sealed class ClusterEventLog : ReceiveActor
{
    public const int Capacity = 500;

    private readonly LinkedList<ClusterEventView> _events = new();
    private long _seq;

    public ClusterEventLog()
    {
        Receive<ClusterEvent.IMemberEvent>(e => Record(KindOf(e), e.Member.Address, $"{e.Member.Status} roles=[{string.Join(",", e.Member.Roles.Order(StringComparer.Ordinal))}]"));
        Receive<ClusterEvent.UnreachableMember>(e => Record("Unreachable", e.Member.Address, e.Member.Status.ToString()));
        Receive<ClusterEvent.ReachableMember>(e => Record("Reachable", e.Member.Address, e.Member.Status.ToString()));
        Receive<ClusterEvent.LeaderChanged>(e => Record("LeaderChanged", e.Leader, "leader"));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<GetEvents>(m => Sender.Tell(new ClusterEventsView(_seq, _events.Where(e => e.Seq > m.After).ToList())));
        ReceiveAny(Unhandled);
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterEventLog());

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private static string KindOf(ClusterEvent.IMemberEvent e) => e switch
    {
        ClusterEvent.MemberJoined => "MemberJoined",
        ClusterEvent.MemberUp => "MemberUp",
        ClusterEvent.MemberWeaklyUp => "MemberWeaklyUp",
        ClusterEvent.MemberLeft => "MemberLeft",
        ClusterEvent.MemberExited => "MemberExited",
        ClusterEvent.MemberDowned => "MemberDowned",
        ClusterEvent.MemberRemoved => "MemberRemoved",
        _ => e.GetType().Name,
    };

    private void Record(string kind, Address? address, string detail)
    {
        _events.AddLast(new ClusterEventView(++_seq, DateTimeOffset.UtcNow, kind, address?.ToString() ?? "", detail));
        while (_events.Count > Capacity)
        {
            _events.RemoveFirst();
        }
    }

    /// <summary>Events numbered above <paramref name="After"/> (0: all kept).</summary>
    public sealed record GetEvents(long After);
}
