using Blip.Actors.Inspection;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Tests.Inspection;

public sealed class LogRingTests
{
    [Fact]
    public void Peek_returns_the_newest_entries_at_or_above_the_level_oldest_first()
    {
        using var metrics = new BlipMetrics();
        var ring = new LogRing(metrics);
        var log = ring.CreateLogger("test");
        log.LogInformation("one");
        log.LogWarning("two");
        log.LogDebug("three");
        log.LogError("four");

        Assert.Equal(["two", "four"], ring.Peek(10, LogLevel.Warning).Select(e => e.Message));
        Assert.Equal(["three", "four"], ring.Peek(2, LogLevel.Trace).Select(e => e.Message));
    }

    [Fact]
    public void The_ring_keeps_only_the_last_entries()
    {
        using var metrics = new BlipMetrics();
        var ring = new LogRing(metrics);
        var log = ring.CreateLogger("test");
        for (var i = 0; i < LogRing.Capacity + 5; i++)
        {
            log.LogInformation("line {N}", i);
        }

        var all = ring.Peek(int.MaxValue, LogLevel.Trace);
        Assert.Equal(LogRing.Capacity, all.Count);
        Assert.Equal("line 5", all[0].Message);
        Assert.Equal($"line {LogRing.Capacity + 4}", all[^1].Message);
    }

    [Fact]
    public void The_allocation_failure_line_is_counted()
    {
        using var metrics = new BlipMetrics();
        var log = new LogRing(metrics).CreateLogger("job");

        log.LogWarning("job 1 (org/repo): failed to allocate runner VM: no claimable VM in pool blip (attempt 1); waiting for one");
        log.LogInformation("job 1: claimed VM blip-a");

        Assert.Equal(1, metrics.AllocationFailures.Value());
    }

    [Fact]
    public void An_akka_entry_is_kept_under_its_actor_path_with_its_message_as_written()
    {
        using var metrics = new BlipMetrics();
        var ring = new LogRing(metrics);
        ring.CreateLogger("Blip.Actors.Config.ConfigWatcher")
            .Log(LogLevel.Information, default, new AkkaLogState("akka.tcp://blip@127.0.0.1:1/user/config", "config ready"), null, (s, _) => s.Message);

        var entry = ring.Peek(1, LogLevel.Trace)[0];
        Assert.Equal("akka.tcp://blip@127.0.0.1:1/user/config", entry.Category);
        Assert.Equal("config ready", entry.Message);
    }
}
