using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.IntegrationTests.Harness;

/// <summary>Every log line of an in-process controller, kept for assertions (and echoed to a file for debugging).</summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly string? _file;
    private readonly object _fileGate = new();

    public CapturedLog(string? file = null) => _file = file;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public int Count(string substring) => _lines.Count(l => l.Contains(substring, StringComparison.Ordinal));

    public bool Contains(string substring) => Count(substring) > 0;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        _lines.Enqueue(line);
        if (_file is not null)
        {
            lock (_fileGate)
            {
                File.AppendAllText(_file, line + "\n");
            }
        }
    }

    private sealed class Logger(CapturedLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
    }
}
