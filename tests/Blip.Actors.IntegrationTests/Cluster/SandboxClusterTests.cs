using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Blip.Actors.IntegrationTests.Sandbox.Executable;

namespace Blip.Actors.IntegrationTests.Cluster;

/// <summary><c>blip-sandbox --nodes 3 --store postgres</c> as a person runs it: its own PostgreSQL, three nodes, the demo.</summary>
[Collection(ClusterCollection.Name)]
public sealed partial class SandboxClusterTests
{
    [Fact]
    public async Task Three_nodes_on_the_sandbox_postgres_run_the_demo_and_leave_no_process_behind()
    {
        // Hang guards only: the summary comes once the demo's jobs are done (about a minute when the machine is loaded, up
        // to 85 s seen, nothing printed yet at 85 s under a full suite's load), and --duration stops the sandbox after it.
        await using var sandbox = SandboxProcess.Start("--nodes", "3", "--store", "postgres", "--vms", "3", "--jobs", "5", "--duration", "300");
        var summary = await Deadline.UntilAsync(
            () => Task.FromResult(SummaryLine().Match(sandbox.Stdout)), m => m.Success, TimeSpan.FromSeconds(240),
            $"demo summary; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");
        Assert.Equal(summary.Groups["matching"].Value, summary.Groups["completed"].Value);
        Assert.Equal("0", summary.Groups["claimed"].Value);
        Assert.Contains("PostgreSQL on 127.0.0.1:", sandbox.Stdout);
        for (var i = 0; i < 3; i++)
        {
            Assert.Contains($"controller {i}: pid", sandbox.Stdout);
        }

        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sandbox.StateDir, "sandbox.json")))!;
        var logs = manifest["controllers"]!.AsArray().Select(c => File.ReadAllText(c!["log"]!.GetValue<string>())).ToList();
        Assert.Equal(3, logs.Count);
        // One cluster: exactly one node started the poller singleton.
        Assert.Single(logs, l => l.Contains(ClusterWorld.SingletonStarted("pollers"), StringComparison.Ordinal));

        await sandbox.TerminateAsync();
        Assert.Equal(0, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await Deadline.UntilAsync(() => Task.FromResult(sandbox.ProcessesInStateDir()), p => p.Count == 0, TimeSpan.FromSeconds(10), "no process left in the state dir");
        Assert.False(Directory.Exists(Path.Combine(sandbox.StateDir, "postgres")), "the sandbox's PostgreSQL is removed at exit");
    }

    [GeneratedRegex(@"summary: (?<completed>\d+)/(?<matching>\d+) matching jobs completed, (?<queued>\d+)/(?<nonMatching>\d+) non-matching left queued.*, (?<claimed>\d+) VMs left claimed")]
    private static partial Regex SummaryLine();
}
