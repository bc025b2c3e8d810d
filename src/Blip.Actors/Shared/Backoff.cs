namespace Blip.Actors.Shared;

/// <summary>Exponential backoff with a cap.</summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private TimeSpan _next;

    public Backoff(TimeSpan initial, TimeSpan max) => (_initial, _max, _next) = (initial, max, initial);

    public TimeSpan Next()
    {
        var current = _next;
        _next = TimeSpan.FromTicks(Math.Min(_max.Ticks, _next.Ticks * 2));
        return current;
    }

    public void Reset() => _next = _initial;
}
