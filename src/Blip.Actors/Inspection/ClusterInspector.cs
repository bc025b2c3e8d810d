using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;

namespace Blip.Actors.Inspection;

/// <summary>The cluster as this node sees it: members, their events, leave/down, and the actor tree.</summary>
public sealed class ClusterInspector(ActorSystem system, IActorRegistry registry)
{
    private Cluster Cluster => Cluster.Get(system);

    public ClusterView ClusterState()
    {
        var state = Cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
            .Select(m => new MemberView(
                m.Address.ToString(),
                m.Roles.Order(StringComparer.Ordinal).ToList(),
                m.Status.ToString(),
                unreachable.Contains(m.Address) ? "Unreachable" : "Reachable"))
            .ToList();
        return new ClusterView(Cluster.SelfAddress.ToString(), Cluster.SelfMember.Status.ToString(), state.Leader?.ToString(), members);
    }

    public Task<ClusterEventsView> ClusterEventsAsync(long after) =>
        registry.Get<ClusterEventLogKey>().Ask<ClusterEventsView>(new ClusterEventLog.GetEvents(after), InspectionAsks.Timeout);

    public ActionView Leave(string address)
    {
        var target = MemberAddress(address);
        Cluster.Leave(target);
        return new ActionView($"asked {target} to leave the cluster");
    }

    public ActionView Down(string address)
    {
        var target = MemberAddress(address);
        Cluster.Down(target);
        return new ActionView($"marked {target} as down");
    }

    public ActionView DownUnreachable()
    {
        var unreachable = Cluster.State.Unreachable.Select(m => m.Address).ToList();
        foreach (var address in unreachable)
        {
            Cluster.Down(address);
        }

        return new ActionView(unreachable.Count == 0
            ? "no unreachable members"
            : $"marked {unreachable.Count} unreachable member(s) as down: {string.Join(", ", unreachable)}");
    }

    private Address MemberAddress(string address)
    {
        Address parsed;
        try
        {
            parsed = Address.Parse(address.Trim());
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            throw new InspectionException(400, $"'{address}' is not an actor system address (akka.tcp://blip@host:port)");
        }

        if (!Cluster.State.Members.Any(m => m.Address.Equals(parsed)))
        {
            throw new InspectionException(404, $"{parsed} is not a member of this cluster");
        }

        return parsed;
    }

    // ---- actors ----

    public async Task<ActorTreeView> ActorTreeAsync(string? root, int depth)
    {
        root = string.IsNullOrWhiteSpace(root) ? "/" : "/" + root.Trim().Trim('/');
        depth = Math.Clamp(depth, 1, 12);
        var walker = system.ActorOf(ActorTreeWalker.Props(root, depth));
        return await walker.Ask<ActorTreeView>(ActorTreeWalker.Walk.Instance, TimeSpan.FromSeconds((ActorTreeWalker.LevelCap.TotalSeconds + 0.5) * depth + 2)).ConfigureAwait(false);
    }
}
