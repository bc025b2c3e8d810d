namespace Blip.Actors.Shared;

/// <summary>Remembers what was already reported so a repeating sighting (every poll) is logged once.
/// Bounded: when <paramref name="capacity"/> keys are held it forgets them all and starts again. Thread-safe.</summary>
public sealed class ReportOnce<T>(int capacity) where T : notnull
{
    private readonly HashSet<T> _reported = [];
    private readonly Lock _gate = new();

    /// <summary>True the first time <paramref name="key"/> is seen (since the last <see cref="Forget"/>).</summary>
    public bool First(T key)
    {
        lock (_gate)
        {
            if (_reported.Count >= capacity)
            {
                _reported.Clear();
            }

            return _reported.Add(key);
        }
    }

    public void Forget()
    {
        lock (_gate)
        {
            _reported.Clear();
        }
    }
}
