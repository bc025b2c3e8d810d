using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Blip.Actors.Benchmarks;
using Blip.Actors.Benchmarks.Scenarios;
using Blip.Sandbox.Cli;

// Exit codes: 0 every scenario ran and the invariants hold; 1 a duplicate, a leaked VM or a failed scenario; 2 usage.
var command = BenchCommand.Parse(args, out var text, out var error);
if (text is not null)
{
    Console.Out.Write(text);
    return 0;
}

if (command is null)
{
    Console.Error.WriteLine($"blip-bench: {error} (--help lists the options)");
    return 2;
}

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
{
    // Let the scenario's teardown stop the controller, the VMs and the emulators.
    c.Cancel = true;
    stop.Cancel();
});

if (await Prerequisites.EnsureAsync(Console.Out, postgresServer: false, stop.Token) is { } missing)
{
    Console.Error.WriteLine(missing);
    return 1;
}

var outDir = Path.GetFullPath(command.OutDir);
Directory.CreateDirectory(outDir);
// The VMs' sshd runs as user runner and must reach its files: a world-searchable place outside the repo.
var stateRoot = Path.Combine(Path.GetTempPath(), $"blip-bench-{Environment.ProcessId}");
Directory.CreateDirectory(stateRoot);
if (!OperatingSystem.IsWindows())
{
    File.SetUnixFileMode(stateRoot, (UnixFileMode)0b111_101_101);
}

var results = new BenchResults { Machine = Machine.Describe(), Quick = command.Quick, StartedAt = DateTimeOffset.UtcNow };
var scenarios = command.Scenarios.Select(Scenario.Create).ToList();
foreach (var p in scenarios.SelectMany(s => s.Profiles).DistinctBy(p => p.Name))
{
    results.Profiles[p.Name] = p.Description;
}

// --quick (CI's smoke test) runs every scenario on the profile its targets judge and every other profile once, in the
// first scenario that lists it: each code path is exercised, at a fraction of every scenario × every profile.
var quickPlan = QuickPlan.Of(scenarios);
var context = new BenchContext(outDir, stateRoot, command.Quick, Console.Out);
var clock = Stopwatch.StartNew();
Console.WriteLine($"blip-bench: {(command.Quick ? "quick" : "full")} run of {string.Join(", ", command.Scenarios)} × profiles {string.Join(", ", results.Profiles.Keys)} → {outDir}");

foreach (var scenario in scenarios)
{
    var scenarioResult = new ScenarioResult { Name = scenario.Name, Description = scenario.Description, Sizes = scenario.Sizes(command.Quick) };
    if (command.Quick)
    {
        foreach (var (k, v) in Profile.QuickOverrides)
        {
            scenarioResult.Sizes[k] = v + " (--quick, every profile run)";
        }
    }

    results.Scenarios.Add(scenarioResult);
    var profiles = command.Quick ? quickPlan[scenario] : scenario.Profiles;
    foreach (var p in profiles)
    {
        scenarioResult.Profiles[p.Name] = new ProfileResult();
    }

    var runs = profiles.Select(p => command.Quick ? p.With(Profile.QuickOverrides) : p).Select(p => (Func<Task>)(() => RunProfileAsync(scenario, scenarioResult, p)));
    if (command.Quick)
    {
        // Timings do not count in --quick: the profiles side by side keep the smoke test short.
        await Task.WhenAll(runs.Select(r => r()));
    }
    else
    {
        foreach (var run in runs)
        {
            if (!stop.IsCancellationRequested)
            {
                await run();
            }
        }
    }
}

results.FinishedAt = DateTimeOffset.UtcNow;
Report.JudgeTargets(results);

var charts = new List<string>();
try
{
    var pickup = results.Scenarios.Where(s => s.Name is "pickup" or "burst");
    foreach (var s in pickup)
    {
        var latencies = s.Profiles.Where(p => p.Value.PickupSeconds is { Count: > 0 }).ToDictionary(p => p.Key, p => p.Value.PickupSeconds!);
        if (latencies.Count > 0)
        {
            charts.Add(Charts.PickupDistribution(outDir, s.Name, latencies));
        }
    }

    foreach (var (profile, p) in results.Scenarios.Where(s => s.Name == "burst").SelectMany(s => s.Profiles))
    {
        if (p.Timeline is { Count: > 0 } timeline)
        {
            charts.Add(Charts.BurstTimeline(outDir, profile, timeline));
        }
    }
}
catch (Exception e) when (e is not OperationCanceledException)
{
    results.Errors.Add($"charts: {e.GetType().Name}: {e.Message}");
}

var json = new JsonSerializerOptions
{
    WriteIndented = true,
    PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
};
await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), JsonSerializer.Serialize(results, json));
await File.WriteAllTextAsync(Path.Combine(outDir, "report.md"), Report.Markdown(results, charts));
try
{
    Directory.Delete(stateRoot, recursive: true);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.WriteLine($"blip-bench: could not remove {stateRoot}: {e.Message}");
}

Console.WriteLine();
foreach (var t in results.Targets)
{
    Console.WriteLine($"  {(t.Met switch { true => "met   ", false => "MISSED", null => "  –   " })} {t.Target}: {t.Measured}");
}

Console.WriteLine($"blip-bench: {results.Duplicates} duplicates, {results.LeakedVms} leaked VMs, {results.Errors.Count} errors in {clock.Elapsed.TotalSeconds:F0} s; {Path.Combine(outDir, "report.md")}");
foreach (var e in results.Errors)
{
    Console.WriteLine($"  error: {e}");
}

return results.Duplicates == 0 && results.LeakedVms == 0 && results.Errors.Count == 0 ? 0 : 1;

async Task RunProfileAsync(Scenario scenario, ScenarioResult scenarioResult, Profile profile)
{
    var started = clock.Elapsed;
    context.Say(scenario.Name, profile, $"starting a fresh world and controller ({string.Join(", ", scenarioResult.Sizes.Select(kv => $"{kv.Key} {kv.Value}"))})");
    try
    {
        await scenario.RunAsync(context, profile, scenarioResult.Profiles[profile.Name], stop.Token);
    }
    catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
    {
        lock (results.Errors)
        {
            results.Errors.Add($"{scenario.Name}/{profile.Name}: {e.GetType().Name}: {e.Message}");
        }

        context.Say(scenario.Name, profile, $"FAILED: {e.Message}");
    }

    context.Say(scenario.Name, profile, $"done in {(clock.Elapsed - started).TotalSeconds:F0} s");
}
