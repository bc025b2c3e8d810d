using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Blip.Actors.Hosting;
using Blip.Actors.Inspection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Blip.Actors.Tests.Hosting;

/// <summary>The controller's console lines: an actor's entry goes through Akka's logger (<see cref="AkkaLogForwarder"/>,
/// wired as the controller wires it) into the console formatter the <c>Blip:LogFormat</c> option picks, and comes out as one line.</summary>
public sealed class ConsoleLoggingTests
{
    [Fact]
    public async Task An_actors_log_line_has_one_timestamp_one_level_its_actor_path_and_the_message_as_written()
    {
        var lines = new PlainLines("claimed VM");
        using var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders().AddProvider(lines))
            .ConfigureServices(services => services.AddAkka("console-logging", (akka, sp) => akka.WithBlipLogging(sp.GetRequiredService<ILoggerFactory>())))
            .Build();
        await host.StartAsync();

        host.Services.GetRequiredService<ActorSystem>().ActorOf(Props.Create(() => new Talker()), "talker").Tell("job 7: claimed VM blip-a");

        var line = await lines.Marked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await host.StopAsync();
        Assert.Single(Regex.Matches(line, @"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|\d{2}/\d{2}/\d{4}"));
        Assert.Single(Regex.Matches(line, @"\b(trce|dbug|info|warn|fail|crit|DEBUG|INFO|WARNING|ERROR)\b"));
        Assert.DoesNotContain("[Thread", line, StringComparison.Ordinal);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info akka://console-logging/user/talker: job 7: claimed VM blip-a\n$", line);
    }

    [Fact]
    public void Plain_is_the_default_and_picks_the_plain_formatter()
    {
        using var services = ConsoleServices(new BlipOptions().LogFormat);

        Assert.Equal(PlainLogFormatter.FormatterName, services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
        Assert.Contains(services.GetServices<ConsoleFormatter>(), f => f is PlainLogFormatter);
    }

    [Fact]
    public void Json_mode_writes_one_parseable_json_object_per_line_with_time_level_category_source_and_message()
    {
        using var services = ConsoleServices(ConsoleLogging.Json);
        var name = services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);

        var text = new StringWriter();
        formatter.Write(Entry(new AkkaLogState("akka://blip/user/config", "config ready"), null), null, text);
        formatter.Write(Entry(new AkkaLogState("akka://blip/user/vms", "VM blip-a lost"), new InvalidOperationException("gone\nfor good")), null, text);

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        using var second = JsonDocument.Parse(lines[1]);
        var root = first.RootElement;
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("Timestamp").GetString(), out _));
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Equal("Blip.Actors.Config.ConfigWatcher", root.GetProperty("Category").GetString());
        Assert.Equal("config ready", root.GetProperty("Message").GetString());
        Assert.Equal("akka://blip/user/config", root.GetProperty("State").GetProperty("Source").GetString());
        Assert.Contains("gone\nfor good", second.RootElement.GetProperty("Exception").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_log_format_is_one_error_naming_it_and_the_choices()
    {
        var error = Assert.Single(new BlipOptions { LogFormat = "xml" }.Validate());

        Assert.Equal("Blip:LogFormat 'xml' must be 'plain' or 'json'", error);
    }

    private static LogEntry<AkkaLogState> Entry(AkkaLogState state, Exception? exception) =>
        new(LogLevel.Information, "Blip.Actors.Config.ConfigWatcher", default, state, exception, (s, _) => s.Message);

    private static ServiceProvider ConsoleServices(string format) =>
        new ServiceCollection().AddLogging(logging => logging.AddBlipConsole(format)).BuildServiceProvider();

    /// <summary>Logs what it is told.</summary>
    private sealed class Talker : ReceiveActor
    {
        public Talker()
        {
            var log = Context.GetLogger();
            Receive<string>(m => log.Info("{0}", m));
        }
    }

    /// <summary>Each entry as <see cref="PlainLogFormatter"/> writes it to the console; <see cref="Marked"/> completes with
    /// the first line that contains the marker.</summary>
    private sealed class PlainLines(string marker) : ILoggerProvider
    {
        private readonly PlainLogFormatter _formatter = new();

        public TaskCompletionSource<string> Marked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private void Add(string line)
        {
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                Marked.TrySetResult(line);
            }
        }

        private sealed class Logger(PlainLines owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var text = new StringWriter();
                owner._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), null, text);
                owner.Add(text.ToString());
            }
        }
    }
}
