using System.Collections;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using AkkaLogLevel = Akka.Event.LogLevel;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Blip.Actors.Inspection;

/// <summary>Hands the <see cref="ILoggerFactory"/> to <see cref="AkkaLogForwarder"/> (an Akka logger is made by Akka, not by DI).</summary>
public sealed class AkkaLogForwarderSetup(ILoggerFactory loggers) : Setup
{
    public ILoggerFactory Loggers { get; } = loggers;
}

/// <summary>
/// Akka's logger: each log event becomes one <see cref="ILogger"/> entry of its logging class, whose state is an
/// <see cref="AkkaLogState"/> (the source, i.e. the actor path, and the message as written). Akka's own
/// <c>[INFO][date][Thread n][source]</c> rendering is not used: the console formatter writes the one timestamp and level.
/// </summary>
public sealed class AkkaLogForwarder : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public AkkaLogForwarder()
    {
        var setup = Context.System.Settings.Setup.Get<AkkaLogForwarderSetup>();
        if (!setup.HasValue)
        {
            throw new InvalidOperationException($"{nameof(AkkaLogForwarder)} needs an {nameof(AkkaLogForwarderSetup)} in the actor system's setup");
        }

        var loggers = setup.Value.Loggers;
        var byClass = new Dictionary<Type, ILogger>();
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            var type = e.LogClass ?? typeof(ActorSystem);
            if (!byClass.TryGetValue(type, out var logger))
            {
                logger = loggers.CreateLogger(type.FullName ?? type.Name);
                byClass[type] = logger;
            }

            logger.Log(LevelOf(e.LogLevel()), default, new AkkaLogState(e.LogSource ?? "akka", e.Message?.ToString() ?? ""), e.Cause, static (s, _) => s.Message);
        });
        ReceiveAny(Unhandled);
    }

    public static LogLevel LevelOf(AkkaLogLevel level) => level switch
    {
        AkkaLogLevel.DebugLevel => LogLevel.Debug,
        AkkaLogLevel.InfoLevel => LogLevel.Information,
        AkkaLogLevel.WarningLevel => LogLevel.Warning,
        _ => LogLevel.Error,
    };
}

/// <summary>An Akka log entry's state: <see cref="Source"/> (actor path, or the system part that logged) and the
/// <see cref="Message"/>. Structured sinks (the JSON console formatter) see the source as a key/value pair beside the message.</summary>
public sealed class AkkaLogState(string source, string message) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public string Source { get; } = source;

    public string Message { get; } = message;

    /// <summary>The source an entry names: an Akka entry's actor path, otherwise the logger's category.</summary>
    public static string SourceOf<TState>(TState state, string category) => state is AkkaLogState akka ? akka.Source : category;

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new("Source", Source) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Message;
}
