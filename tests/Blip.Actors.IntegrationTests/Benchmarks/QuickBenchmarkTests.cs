using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Blip.Actors.IntegrationTests.Benchmarks;

/// <summary>
/// The benchmark program's <c>--quick</c> mode as CI runs it: the built <c>Blip.Actors.Benchmarks.dll</c> as a
/// process. Only the invariants are asserted (no duplicate run or claim, no leaked VM), never a timing.
/// </summary>
public sealed class QuickBenchmarkTests(ITestOutputHelper output)
{
    // A hang guard: the quick run takes about 3 min on a loaded 2-core machine and passed 240 s under a full suite's load.
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(480);

    [Fact]
    public async Task Quick_benchmark_runs_every_scenario_with_no_duplicate_and_no_leaked_vm()
    {
        var program = FindBenchmarkProgram();
        var outDir = Directory.CreateTempSubdirectory("blip-bench-quick-").FullName;
        try
        {
            var (exitCode, log) = await RunAsync(program, ["--quick", "--out", outDir]);
            output.WriteLine(log);

            var resultsPath = Path.Combine(outDir, "results.json");
            Assert.True(File.Exists(resultsPath), $"{resultsPath} was not written");
            Assert.True(File.Exists(Path.Combine(outDir, "report.md")), "report.md was not written");
            using var results = JsonDocument.Parse(await File.ReadAllTextAsync(resultsPath));
            var root = results.RootElement;
            Assert.True(root.GetProperty("quick").GetBoolean());
            var errors = root.GetProperty("errors").EnumerateArray().Select(e => e.GetString() ?? "").ToList();
            WriteFailedControllerLogs(outDir, errors);
            // The errors themselves in the failure's first line: CI prints only that line.
            Assert.True(errors.Count == 0, $"{errors.Count} scenario error(s): {string.Join(" | ", errors)}");
            Assert.Equal(0, root.GetProperty("duplicates").GetInt32());
            Assert.Equal(0, root.GetProperty("leakedVms").GetInt32());
            Assert.Equal(7, root.GetProperty("scenarios").GetArrayLength());
            // --quick: every profile once (pickup lists them all), the judged profile alone in every other scenario.
            var profiles = root.GetProperty("scenarios").EnumerateArray()
                .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("profiles").EnumerateObject().Select(p => p.Name).ToList());
            Assert.Equal(["default", "upstream", "webhooks"], profiles["pickup"]);
            Assert.All(profiles.Where(p => p.Key != "pickup"), p => Assert.Equal(["default"], p.Value));
            Assert.Equal(0, exitCode);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    /// <summary>A failed scenario's controller logs end up in the test output (the out dir is deleted afterwards).</summary>
    private void WriteFailedControllerLogs(string outDir, IReadOnlyList<string> errors)
    {
        var logs = Path.Combine(outDir, "logs");
        if (errors.Count == 0 || !Directory.Exists(logs))
        {
            return;
        }

        foreach (var file in Directory.GetFiles(logs, "*.log"))
        {
            var name = Path.GetFileNameWithoutExtension(file); // <scenario>-<profile>
            if (errors.Any(e => e.StartsWith(ReplaceLast(name, '-', '/') + ":", StringComparison.Ordinal)))
            {
                output.WriteLine($"--- the last 80 lines of {name}.log ---");
                output.WriteLine(string.Join(Environment.NewLine, File.ReadLines(file).TakeLast(80)));
            }
        }

        static string ReplaceLast(string s, char from, char to) =>
            s.LastIndexOf(from) is var i and >= 0 ? s[..i] + to + s[(i + 1)..] : s;
    }

    /// <summary>The benchmark's build output in this test's configuration (the test project references it, so
    /// building the tests builds it), found from the repository root.</summary>
    private static string FindBenchmarkProgram()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Blip.Actors.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var program = Path.Combine(dir.FullName, "tests", "Blip.Actors.Benchmarks", "bin", configuration, "net10.0", "Blip.Actors.Benchmarks.dll");
        Assert.True(File.Exists(program), $"{program} is missing: build tests/Blip.Actors.Benchmarks ({configuration})");
        return program;
    }

    private static async Task<(int ExitCode, string Log)> RunAsync(string program, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(DotnetHost()) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(program);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var log = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine("stderr: " + e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGINT first: the program stops its controllers, VMs and emulators on it.
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            Assert.Fail($"the quick benchmark did not finish within {Limit.TotalSeconds:F0} s:{Environment.NewLine}{log}");
        }

        process.WaitForExit();
        lock (log)
        {
            return (process.ExitCode, log.ToString());
        }
    }

    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk) ? fromSdk : "dotnet";
    }
}
