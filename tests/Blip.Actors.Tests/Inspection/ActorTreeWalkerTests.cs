using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Inspection;

namespace Blip.Actors.Tests.Inspection;

public sealed class ActorTreeWalkerTests : TestKit
{
    [Fact]
    public async Task The_walk_returns_every_path_down_to_the_depth_sorted()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent(2)), "parent");
        await parent.Ask<Ready>(Ready.Instance, TimeSpan.FromSeconds(3));

        var shallow = await Sys.ActorOf(ActorTreeWalker.Props("/user/parent", 1)).Ask<ActorTreeView>(ActorTreeWalker.Walk.Instance, TimeSpan.FromSeconds(5));
        var deep = await Sys.ActorOf(ActorTreeWalker.Props("/user/parent", 3)).Ask<ActorTreeView>(ActorTreeWalker.Walk.Instance, TimeSpan.FromSeconds(10));

        Assert.Equal(["/user/parent", "/user/parent/child-0", "/user/parent/child-1"], shallow.Paths);
        Assert.Equal(
            ["/user/parent", "/user/parent/child-0", "/user/parent/child-0/child-0", "/user/parent/child-0/child-1", "/user/parent/child-1",
             "/user/parent/child-1/child-0", "/user/parent/child-1/child-1"],
            deep.Paths);
    }

    [Fact]
    public async Task From_the_root_it_walks_user_and_system()
    {
        var view = await Sys.ActorOf(ActorTreeWalker.Props("/", 1)).Ask<ActorTreeView>(ActorTreeWalker.Walk.Instance, TimeSpan.FromSeconds(5));

        Assert.Contains("/user", view.Paths);
        Assert.Contains("/system", view.Paths);
        Assert.Contains("/system/deadLetterListener", view.Paths);
        Assert.DoesNotContain(view.Paths, p => p.StartsWith("/user/$", StringComparison.Ordinal)); // not the walker itself
    }

    private sealed class Ready
    {
        public static readonly Ready Instance = new();
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent(int levels)
        {
            if (levels > 0)
            {
                for (var i = 0; i < 2; i++)
                {
                    Context.ActorOf(Props.Create(() => new Parent(levels - 1)), $"child-{i}");
                }
            }

            Receive<Ready>(_ => Sender.Tell(Ready.Instance));
            ReceiveAny(Unhandled);
        }
    }
}
