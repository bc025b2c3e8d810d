using Microsoft.Extensions.Logging;

namespace Blip.Actors.Inspection;

/// <summary>
/// The last <see cref="Capacity"/> log events of this node, for <c>blipctl log peek</c>. It holds exactly what was
/// logged, and secrets never reach a log call, so none can be here. It also counts the Troubleshooting line
/// <c>failed to allocate runner VM</c> (DESIGN.md §2) into <see cref="BlipMetrics.AllocationFailures"/>: that line
/// is the contract for an allocation failure, so the counter needs no hook in the job code.
/// </summary>
public sealed class LogRing(BlipMetrics metrics) : ILoggerProvider
{
    public const int Capacity = 2000;
    public const string AllocationFailureLine = "failed to allocate runner VM";

    private readonly LogEntryView[] _entries = new LogEntryView[Capacity];
    private readonly object _gate = new();
    private long _written;

    public ILogger CreateLogger(string categoryName) => new RingLogger(this, categoryName);

    /// <summary>The newest <paramref name="count"/> entries at or above <paramref name="minimum"/>, oldest first.</summary>
    public IReadOnlyList<LogEntryView> Peek(int count, LogLevel minimum)
    {
        var result = new List<LogEntryView>();
        lock (_gate)
        {
            var available = (int)Math.Min(_written, Capacity);
            for (var i = 0; i < available && result.Count < count; i++)
            {
                var entry = _entries[(int)((_written - 1 - i) % Capacity)];
                if (Enum.Parse<LogLevel>(entry.Level) >= minimum)
                {
                    result.Add(entry);
                }
            }
        }

        result.Reverse();
        return result;
    }

    public void Dispose()
    {
    }

    private void Add(LogLevel level, string category, string message)
    {
        if (message.Contains(AllocationFailureLine, StringComparison.Ordinal))
        {
            metrics.AllocationFailures.Inc();
        }

        var entry = new LogEntryView(DateTimeOffset.UtcNow, level.ToString(), category, message);
        lock (_gate)
        {
            _entries[(int)(_written % Capacity)] = entry;
            _written++;
        }
    }

    private sealed class RingLogger(LogRing ring, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (exception is not null)
            {
                message += $" ({exception.GetType().Name}: {exception.Message})";
            }

            // An Akka entry names its actor (path) as the source, as the console line does.
            ring.Add(logLevel, AkkaLogState.SourceOf(state, category), message);
        }
    }
}
