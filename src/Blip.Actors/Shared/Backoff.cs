namespace Blip.Actors.Shared;

/// <summary>Exponential backoff with a cap: each <see cref="Next"/> returns the current delay and doubles it, up to the cap.
/// Not thread-safe: an actor's own state, or used under its owner's lock.</summary>
public sealed class Backoff
{
    private readonly TimeSpan _max;
    private TimeSpan _initial;
    private TimeSpan _next;

    public Backoff(TimeSpan initial, TimeSpan max) => (_initial, _max, _next) = (initial, max, initial);

    public TimeSpan Next()
    {
        var current = _next;
        _next = TimeSpan.FromTicks(Math.Min(_max.Ticks, _next.Ticks * 2));
        return current;
    }

    public void Reset() => _next = _initial;

    /// <summary>Starts over from <paramref name="initial"/> (also where later <see cref="Reset()"/>s start).</summary>
    public void Reset(TimeSpan initial) => _next = _initial = initial;
}
