using Akka.Actor;

namespace Blip.Actors.Inspection;

/// <summary>How inspection asks the node's actors: a short timeout, and "no answer" as null where that is an answer.</summary>
internal static class InspectionAsks
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static async Task<T?> OrNull<T>(IActorRef actor, object message, TimeSpan timeout) where T : class
    {
        try
        {
            return await actor.Ask<T>(message, timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}
