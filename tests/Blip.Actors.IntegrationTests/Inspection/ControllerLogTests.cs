using System.Text.Json;
using System.Text.RegularExpressions;
using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>The controller executable's console log, as <c>kubectl logs</c> shows it: its process output up to the
/// moment its management endpoint listens (Akka's entries and ours).</summary>
public sealed partial class ControllerLogTests
{
    [Fact]
    public async Task A_plain_line_has_one_timestamp_one_level_the_source_and_the_message()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await using var controller = await world.StartControllerProcessAsync();

        var lines = await LinesUntilListeningAsync(controller);

        // Akka's entry of the node joining (it wrote "[INFO][date][Thread n][source]" into the line before) and one of ours.
        var joined = lines.First(l => l.Contains("is JOINING", StringComparison.Ordinal));
        Assert.Matches(PlainLine(), joined);
        Assert.Contains(lines, l => l.Contains(" info Blip.Actors.Inspection.ManagementEndpoint: management endpoint listening on ", StringComparison.Ordinal));
        foreach (var line in lines.Where(l => Timestamp().IsMatch(l)))
        {
            Assert.Single(Timestamp().Matches(line));
            Assert.Matches(PlainLine(), line);
            Assert.DoesNotMatch(@"\[(DEBUG|INFO|WARNING|ERROR)\]|\[Thread \d+\]", line);
        }
    }

    [Fact]
    public async Task With_log_format_json_every_line_is_a_json_object_naming_time_level_source_and_message()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await using var controller = await world.StartControllerProcessAsync(new Dictionary<string, string> { ["Blip__LogFormat"] = "json" });

        var lines = await LinesUntilListeningAsync(controller);

        Assert.NotEmpty(lines);
        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.All(entries, e =>
        {
            Assert.True(DateTimeOffset.TryParse(e.GetProperty("Timestamp").GetString(), out _), e.ToString());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("LogLevel").GetString()), e.ToString());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("Category").GetString()), e.ToString());
            Assert.True(e.TryGetProperty("Message", out _), e.ToString());
        });
        var joined = entries.First(e => e.GetProperty("Message").GetString()!.Contains("is JOINING", StringComparison.Ordinal));
        Assert.False(string.IsNullOrEmpty(joined.GetProperty("State").GetProperty("Source").GetString()), joined.ToString());
        Assert.DoesNotContain("[INFO]", joined.GetProperty("Message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>The log once the management endpoint (started after the actor system) says it listens.</summary>
    private static async Task<string[]> LinesUntilListeningAsync(Blip.Sandbox.Cli.ControllerProcess controller)
    {
        await Deadline.UntilAsync(() => controller.ReadLog().Contains("management endpoint listening on", StringComparison.Ordinal), PipelineWorld.Deadline, "the management endpoint listening");
        return controller.ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|\d{2}/\d{2}/\d{4} \d{2}:\d{2}")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (trce|dbug|info|warn|fail|crit) \S.*?: \S")]
    private static partial Regex PlainLine();
}
