using Blip.Actors.Inspection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Blip.Actors.Hosting;

/// <summary>The controller's console log (<c>Blip:LogFormat</c>): <c>plain</c>, one line per entry
/// (<see cref="PlainLogFormatter"/>), or <c>json</c>, one JSON object per line from the built-in JSON console formatter
/// for log aggregation.</summary>
public static class ConsoleLogging
{
    public const string Plain = "plain";
    public const string Json = "json";
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

    public static ILoggingBuilder AddBlipConsole(this ILoggingBuilder logging, string format)
    {
        if (format == Json)
        {
            return logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat;
                o.IncludeScopes = false;
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }

        logging.AddConsole(o => o.FormatterName = PlainLogFormatter.FormatterName);
        logging.AddConsoleFormatter<PlainLogFormatter, ConsoleFormatterOptions>();
        return logging;
    }
}

/// <summary>
/// <c>2026-11-30T20:31:24.542Z info akka://blip/user/config: config ready</c>: one timestamp (UTC), one level, the
/// source (an actor's path for Akka's entries, else the logger's category), the message as logged; an exception follows
/// on the same line.
/// </summary>
public sealed class PlainLogFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "blip-plain";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        textWriter.Write(Line(DateTimeOffset.UtcNow, logEntry.LogLevel, AkkaLogState.SourceOf(logEntry.State, logEntry.Category), message ?? "", logEntry.Exception));
        textWriter.Write('\n');
    }

    public static string Line(DateTimeOffset at, LogLevel level, string source, string message, Exception? exception)
    {
        var line = $"{at.UtcDateTime.ToString(ConsoleLogging.TimestampFormat, System.Globalization.CultureInfo.InvariantCulture)} {Level(level)} {source}: {message}";
        return exception is null ? line : line + " " + exception.ToString().ReplaceLineEndings(" ");
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
