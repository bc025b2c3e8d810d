using Akka.Actor;

namespace Blip.Actors.Shared;

/// <summary>
/// Feeds an actor from a watch stream (the config objects, the pool's VMs): each item is told to the actor as it comes,
/// then <see cref="Ended"/> when the stream ends by itself, so the actor can start it again; a cancelled stream (the
/// actor stopped) ends silently. The stream runs outside the actor and touches none of its state.
/// </summary>
public static class WatchPump
{
    public static void Start<T>(Func<CancellationToken, IAsyncEnumerable<T>> watch, IActorRef target, CancellationToken ct) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in watch(ct).ConfigureAwait(false))
                {
                    target.Tell(item);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            target.Tell(Ended.Instance);
        }, CancellationToken.None);

    /// <summary>The stream ended without being cancelled.</summary>
    public sealed class Ended : INoSerializationVerificationNeeded
    {
        public static readonly Ended Instance = new();

        private Ended()
        {
        }
    }
}
