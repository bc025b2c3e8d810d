using Microsoft.Extensions.Logging;

namespace Blip.Actors.Inspection;

/// <summary>The node's recent log lines (the <see cref="LogRing"/>), filtered by level.</summary>
public sealed class LogInspector(LogRing logs)
{
    public LogView Logs(int count, string? level)
    {
        var minimum = LogLevel.Trace;
        if (!string.IsNullOrWhiteSpace(level) && !TryParseLevel(level, out minimum))
        {
            throw new InspectionException(400, $"unknown log level '{level}' (debug, info, warning, error)");
        }

        return new LogView(logs.Peek(Math.Clamp(count, 1, LogRing.Capacity), minimum));
    }

    public static bool TryParseLevel(string value, out LogLevel level)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "trace" or "verbose":
                level = LogLevel.Trace;
                return true;
            case "debug":
                level = LogLevel.Debug;
                return true;
            case "info" or "information":
                level = LogLevel.Information;
                return true;
            case "warn" or "warning":
                level = LogLevel.Warning;
                return true;
            case "error":
                level = LogLevel.Error;
                return true;
            case "critical":
                level = LogLevel.Critical;
                return true;
            default:
                level = LogLevel.None;
                return false;
        }
    }
}
