using System.Globalization;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Shared;
using Microsoft.Data.Sqlite;

namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>
/// Bounded by what is live: jobs run back to back on every VM for the whole run, with a short
/// <c>Blip:JobRetention</c>, while the controller's journal rows (SQLite: events and tags) and RSS are sampled.
/// Once a retention and a job have passed, finished jobs' events are deleted as fast as new jobs write theirs: over
/// the run's second half, journal rows and RSS should stay flat (their least-squares slopes near zero).
/// </summary>
public sealed class SoakScenario : Scenario
{
    private const string Repo = "bench-org/soak";

    public override string Name => "soak";

    public override string Description =>
        "jobs run back to back on every VM with a short job retention; journal rows (events + tags) and controller RSS sampled throughout; their slopes over the second half show whether state is bounded by what is live";

    // Only the controller's own defaults: the upstream profile keeps no journal to bound.
    public override IReadOnlyList<Profile> Profiles => [Profile.Default];

    private sealed record Size(TimeSpan Length, int Vms, int JobSeconds, TimeSpan Retention, TimeSpan SampleEvery);

    private static Size SizeOf(bool quick) => quick
        ? new(TimeSpan.FromSeconds(25), 2, 1, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(2))
        : new(TimeSpan.FromMinutes(10), 4, 3, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5));

    public override Dictionary<string, string> Sizes(bool quick)
    {
        var s = SizeOf(quick);
        return new()
        {
            ["length_s"] = s.Length.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            ["vms"] = s.Vms.ToString(CultureInfo.InvariantCulture),
            ["job_duration_s"] = s.JobSeconds.ToString(CultureInfo.InvariantCulture),
            ["Blip__JobRetention"] = s.Retention.ToString(),
            ["sample_every_s"] = s.SampleEvery.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        };
    }

    private sealed record Sample(double Minutes, long JournalRows, double RssMiB, int Completed);

    public override async Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct)
    {
        var size = SizeOf(context.Quick);
        var settings = profile.With(new Dictionary<string, string> { ["Blip__JobRetention"] = size.Retention.ToString() });
        await using var world = await BenchWorld.StartAsync(context.StateRoot, Name, settings, size.Vms, [Repo], ct);
        context.Say(Name, profile, $"controller pid {world.Controller.Pid} joined; {size.Vms} VMs run {size.JobSeconds} s jobs back to back for {size.Length.TotalSeconds:F0} s, retention {size.Retention.TotalSeconds:F0} s");
        await Deadline.UntilAsync(() => world.GitHub.GetStatsAsync(ct), s => s.Total >= profile.GetsPerIdlePoll, TimeSpan.FromSeconds(60), "the first poll", ct);

        var completed = 0;
        var started = DateTimeOffset.UtcNow;
        var end = started + size.Length;
        // One lane per VM: queue a job, wait until it completed and its VM is free again, repeat until the end.
        async Task LaneAsync()
        {
            while (DateTimeOffset.UtcNow < end)
            {
                var queued = await world.GitHub.QueueJobAsync(new QueueJobRequest(Repo, BenchWorld.RunnerLabels, size.JobSeconds), ct);
                await Deadline.UntilAsync(() => world.GitHub.GetJobAsync(queued.JobId, ct), j => j?.Status == "completed",
                    TimeSpan.FromSeconds(size.JobSeconds + 120), $"job {queued.JobId} to complete", ct, TimeSpan.FromMilliseconds(250));
                Interlocked.Increment(ref completed);
            }
        }

        var samples = new List<Sample>();
        async Task SampleAsync()
        {
            while (DateTimeOffset.UtcNow < end)
            {
                samples.Add(new((DateTimeOffset.UtcNow - started).TotalMinutes, JournalRows(world.JournalFile), world.Meter.RssMiB(), Volatile.Read(ref completed)));
                var last = samples[^1];
                context.Say(Name, profile, $"{last.Minutes * 60:F0} s: {last.Completed} jobs completed, {last.JournalRows} journal rows, RSS {last.RssMiB:F0} MiB");
                await Task.Delay(size.SampleEvery, ct); // the sampling period: pacing, not a wait for a state
            }
        }

        await Task.WhenAll([.. Enumerable.Range(0, size.Vms).Select(_ => LaneAsync()), SampleAsync()]);

        var secondHalf = samples.Where(s => s.Minutes >= size.Length.TotalMinutes / 2).ToList();
        result.Figures[Figure.Jobs] = completed;
        result.Figures["jobs_per_min"] = completed / size.Length.TotalMinutes;
        result.Figures["journal_rows_max"] = samples.Max(s => s.JournalRows);
        result.Figures["journal_rows_end"] = samples[^1].JournalRows;
        result.Figures["journal_rows_per_min_second_half"] = Stats.SlopePerMinute(secondHalf.Select(s => (s.Minutes, (double)s.JournalRows)).ToList());
        result.Figures["rss_mean_mib_second_half"] = secondHalf.Average(s => s.RssMiB);
        result.Figures["rss_mib_per_min_second_half"] = Stats.SlopePerMinute(secondHalf.Select(s => (s.Minutes, s.RssMiB)).ToList());
        result.Notes.Add($"samples (s, completed, journal rows, RSS MiB): {string.Join("; ", samples.Select(s => $"{s.Minutes * 60:F0} {s.Completed} {s.JournalRows} {s.RssMiB:F0}"))}");
        await RecordInvariantsAsync(context, world, Name, result, ct);
        RecordController(world, result);
        result.ControllerLog = world.KeepLog(context.OutDir, Name);
        context.Say(Name, profile, $"{completed} jobs; second half: journal rows {result.Figures["journal_rows_per_min_second_half"]:F1}/min, RSS {result.Figures["rss_mib_per_min_second_half"]:F2} MiB/min");
    }

    /// <summary>Rows in the journal and its tag table, read as an operator would (read-only, no pooling).</summary>
    private static long JournalRows(string file)
    {
        if (!File.Exists(file))
        {
            return 0;
        }

        using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        // The journal creates its tables at its first write: before that (a slow start) the file holds no row.
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('journal', 'tags')";
        if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) < 2)
        {
            return 0;
        }

        command.CommandText = "SELECT (SELECT COUNT(*) FROM journal) + (SELECT COUNT(*) FROM tags)";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
