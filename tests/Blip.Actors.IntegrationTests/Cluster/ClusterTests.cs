using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Blip.Actors.Vms;
using Blip.Sandbox.GitHub;
using Npgsql;
using Xunit.Abstractions;

namespace Blip.Actors.IntegrationTests.Cluster;

/// <summary>
/// Three controller processes on one PostgreSQL journal, one Akka.NET cluster: the poller singleton, the job shards,
/// failover after SIGKILL, graceful leave on SIGTERM, a full restart, a paused minority. The outcome is read from the
/// emulators' own records (GitHub's jobs and runners, the Kubernetes audit of VM writes) and the nodes' logs.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class ClusterTests(ITestOutputHelper output)
{
    private const string RunsList = "GET /repos/{o}/{r}/actions/runs";
    private static readonly TimeSpan JobsDeadline = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan ReleaseDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Three_nodes_form_one_cluster_poll_each_repo_from_one_node_and_claim_once_per_job()
    {
        string[] repos = ["org-a/repo-a", "org-b/repo-b", "org-c/repo-c"];
        await using var cluster = await ClusterWorld.StartAsync(output, nodes: 3, vms: 4, repos: repos);

        // One member list: every node was moved to Up by a leader of this cluster (leadership may pass to a lower address
        // as nodes join), and each node but the first was welcomed by a member of it. blipctl confirms below that every
        // node sees the same three members Up.
        Assert.All(cluster.Alive, m => Assert.Contains(cluster.Alive, n => n.ReadLog().Contains($"Leader is moving node [{m.Address}] to [Up]", StringComparison.Ordinal)));
        Assert.True(cluster.Alive.Count(n => cluster.Alive.Any(m => m != n && n.ReadLog().Contains($"Welcome from [{m.Address}]", StringComparison.Ordinal))) >= 2,
            "at least two nodes were welcomed into the cluster by another member");

        var ids = await cluster.QueueJobsAsync(9, repos, durationSeconds: 2);
        var jobs = await cluster.WaitAllCompletedAsync(ids, JobsDeadline);
        var audit = await cluster.WaitNoVmClaimedAsync(ReleaseDeadline);
        cluster.Say($"audit: {audit}");

        // Each repo polled by exactly one node, started once: the poller singleton lives on one node.
        var poller = cluster.PollerHost();
        Assert.NotNull(poller);
        foreach (var repo in repos)
        {
            var starts = cluster.Alive.Select(n => (Node: n, Count: Occurrences(n.ReadLog(), $"repo {repo}: polling every"))).ToList();
            Assert.Equal(1, starts.Sum(s => s.Count));
            Assert.Equal(poller, starts.Single(s => s.Count == 1).Node);
        }

        var stats = await cluster.GitHub.GetStatsAsync();
        Assert.All(repos, r => Assert.True(stats.ByRepo.GetValueOrDefault(r)?.Total > 0, $"repo {r} was polled"));
        cluster.Say($"runs-list requests {stats.ByEndpoint[RunsList].Total}, all REST requests {stats.Total}");

        // Shards on all three: every node hosted at least one job actor.
        foreach (var node in cluster.Alive)
        {
            var hosted = JobsQueuedOn(node.ReadLog());
            cluster.Say($"node {node.Index} hosted jobs {string.Join(", ", hosted)}");
            Assert.NotEmpty(hosted);
        }

        AssertEachJobRanOnceOnABlipRunner(ids, jobs, await cluster.GitHub.ListRunnersAsync(all: true));
        AssertOneClaimPerDecision(cluster, ids, audit);

        // The operator's view of the same cluster: blipctl against any node lists all three members, Up.
        foreach (var node in cluster.Alive)
        {
            var show = await Inspection.Blipctl.RunAsync("--endpoint", node.ManagementUrl, "cluster", "show");
            Assert.True(show.ExitCode == 0, show.ToString());
            Assert.Contains("Count: 3 nodes", show.Stdout);
            Assert.All(cluster.Alive, m => Assert.Contains(m.Address, show.Stdout));
            Assert.Equal(3, show.Stdout.Split('\n').Count(l => l.Contains("| Up", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task Killing_the_poller_node_mid_burst_loses_no_job_and_polling_resumes_on_another_node()
    {
        string[] repos = ["org-a/repo-a", "org-b/repo-b"];
        await using var cluster = await ClusterWorld.StartAsync(output, nodes: 3, vms: 4, repos: repos);
        var victim = await Deadline.UntilAsync(() => Task.FromResult(cluster.PollerHost()), p => p is not null, TimeSpan.FromSeconds(30), "the poller singleton started");
        var ids = await cluster.QueueJobsAsync(10, repos, durationSeconds: 6);

        // Mid-burst: some jobs running, some still waiting for a VM, and the victim hosting some of them.
        await Deadline.UntilAsync(
            async () => (await cluster.GitHub.ListJobsAsync()).Count(j => ids.Contains(j.JobId) && j.Status == "in_progress"),
            running => running >= 2 && JobsQueuedOn(victim!.ReadLog()).Count > 0,
            TimeSpan.FromSeconds(60), "two jobs running and the poller node hosting a job");
        var before = await cluster.GitHub.ListJobsAsync();
        var victimJobs = JobsQueuedOn(victim!.ReadLog());
        cluster.Say($"before the kill: {Describe(before, ids)}; node {victim.Index} (poller) hosts jobs {string.Join(", ", victimJobs)}");

        await victim.SignalAsync("KILL");
        var killedAt = Stopwatch.StartNew();
        Assert.True(await victim.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the killed node exited");
        var runsListAtKill = (await cluster.GitHub.GetStatsAsync()).ByEndpoint[RunsList].Total;
        cluster.Say($"node {victim.Index} SIGKILLed; runs-list requests so far {runsListAtKill}");

        // Polling resumes: the next runs-list request after the kill can only come from a new poller.
        await Deadline.UntilAsync(
            async () => (await cluster.GitHub.GetStatsAsync()).ByEndpoint[RunsList].Total,
            n => n > runsListAtKill, TimeSpan.FromSeconds(120), "a runs-list request after the kill");
        var resumed = killedAt.Elapsed;
        var newPoller = await Deadline.UntilAsync(() => Task.FromResult(cluster.PollerHost()), p => p is not null && p != victim, TimeSpan.FromSeconds(60), "a new poller host");
        cluster.Say($"polling resumed {resumed.TotalSeconds:F1} s after the kill, on node {newPoller!.Index}");
        // Every repo's poller moves there (the first request after the kill may come from one of them before the others started).
        await Deadline.UntilAsync(
            () => Task.FromResult(repos.Where(r => !newPoller.ReadLog().Contains($"repo {r}: polling every", StringComparison.Ordinal)).ToList()),
            missing => missing.Count == 0, TimeSpan.FromSeconds(60), "every repo polled from the new poller host");

        var jobs = await cluster.WaitAllCompletedAsync(ids, JobsDeadline);
        var audit = await cluster.WaitNoVmClaimedAsync(ReleaseDeadline);
        cluster.Say($"all done {killedAt.Elapsed.TotalSeconds:F1} s after the kill; audit: {audit}");
        var runners = await cluster.GitHub.ListRunnersAsync(all: true);
        cluster.Say($"runners registered {runners.Count} for {ids.Count} jobs");
        AssertEachJobRanOnceOnABlipRunner(ids, jobs, runners);
        // How soon polling resumes (failure detection plus downing) is reported above and measured by the benchmarks; here
        // it only has to resume, within the hang guard of the wait above.
        Assert.All(ids, id => Assert.InRange(audit.MaxConcurrent.GetValueOrDefault(id), 0, 1));
    }

    [Fact]
    public async Task A_node_stopped_with_sigterm_leaves_gracefully_and_its_jobs_finish_uninterrupted()
    {
        string[] repos = ["demo-org/demo-repo"];
        await using var cluster = await ClusterWorld.StartAsync(output, nodes: 3, vms: 4, repos: repos);
        var poller = await Deadline.UntilAsync(() => Task.FromResult(cluster.PollerHost()), p => p is not null, TimeSpan.FromSeconds(30), "the poller singleton started");
        var ids = await cluster.QueueJobsAsync(8, repos, durationSeconds: 6);
        var leaving = await Deadline.UntilAsync(
            async () =>
            {
                var running = (await cluster.GitHub.ListJobsAsync()).Where(j => ids.Contains(j.JobId) && j.Status == "in_progress").Select(j => j.JobId).ToHashSet();
                return cluster.Alive.OrderBy(n => n == poller).FirstOrDefault(n => JobsQueuedOn(n.ReadLog()).Any(running.Contains));
            },
            n => n is not null, TimeSpan.FromSeconds(60), "a node hosting a running job (preferably not the poller's)");
        cluster.Say($"node {leaving!.Index} hosts jobs {string.Join(", ", JobsQueuedOn(leaving.ReadLog()))}; SIGTERM");

        var stopwatch = Stopwatch.StartNew();
        await leaving.SignalAsync("TERM");
        Assert.True(await leaving.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the node exited after SIGTERM");
        cluster.Say($"node {leaving.Index} exited {stopwatch.Elapsed.TotalSeconds:F1} s after SIGTERM with code {leaving.ExitCode}");
        var log = leaving.ReadLog();
        Assert.Contains($"Marked address [{leaving.Address}] as [Leaving]", log);
        Assert.Contains("Exiting completed", log);
        Assert.Equal(0, leaving.ExitCode);

        // Its shards move: the Janitor saw it leave and woke the jobs of every claimed VM elsewhere.
        await Deadline.UntilAsync(() => cluster.Alive.Any(n => n.ReadLog().Contains($"janitor: node {leaving.Address} left the cluster", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the janitor saw the node leave");

        var jobs = await cluster.WaitAllCompletedAsync(ids, JobsDeadline);
        var audit = await cluster.WaitNoVmClaimedAsync(ReleaseDeadline);
        cluster.Say($"audit: {audit}");
        AssertEachJobRanOnceOnABlipRunner(ids, jobs, await cluster.GitHub.ListRunnersAsync(all: true));
        Assert.All(jobs, j => Assert.Equal("success", j.Conclusion));
        AssertOneClaimPerDecision(cluster, ids, audit);
    }

    [Fact]
    public async Task Killing_and_restarting_every_node_recovers_the_jobs_from_postgres_without_a_second_claim()
    {
        string[] repos = ["demo-org/demo-repo"];
        await using var cluster = await ClusterWorld.StartAsync(output, nodes: 3, vms: 3, repos: repos);
        var ids = await cluster.QueueJobsAsync(6, repos, durationSeconds: 8);
        await Deadline.UntilAsync(
            async () => (await cluster.GitHub.ListJobsAsync()).Count(j => ids.Contains(j.JobId) && j.Status == "in_progress"),
            running => running >= 2, TimeSpan.FromSeconds(60), "two jobs running");
        cluster.Say($"before the kill: {Describe(await cluster.GitHub.ListJobsAsync(), ids)}");

        foreach (var node in cluster.Alive.ToList())
        {
            await node.SignalAsync("KILL");
        }

        foreach (var node in cluster.Nodes)
        {
            Assert.True(await node!.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        var journaled = await JournaledJobsAsync(cluster.ConnectionString);
        cluster.Say($"all nodes SIGKILLed; the journal holds {journaled.Count} jobs");
        Assert.NotEmpty(journaled);

        for (var i = 0; i < cluster.Plan.Count; i++)
        {
            cluster.Start(i);
        }

        await cluster.WaitAllJoinedAsync();
        cluster.Say("all nodes restarted and joined");

        var jobs = await cluster.WaitAllCompletedAsync(ids, JobsDeadline);
        var audit = await cluster.WaitNoVmClaimedAsync(ReleaseDeadline);
        cluster.Say($"audit: {audit}");
        AssertEachJobRanOnceOnABlipRunner(ids, jobs, await cluster.GitHub.ListRunnersAsync(all: true));
        // A job that had its VM before the kill kept it (recovered from the journal, or adopted by its session): no
        // claim beyond the ones its own decisions explain, and never two VMs at once.
        AssertOneClaimPerDecision(cluster, ids, audit);
    }

    [Fact]
    public async Task A_paused_minority_node_is_downed_and_claims_nothing_after_it_resumes()
    {
        string[] repos = ["demo-org/demo-repo"];
        await using var cluster = await ClusterWorld.StartAsync(output, nodes: 3, vms: 2, repos: repos);
        var poller = await Deadline.UntilAsync(() => Task.FromResult(cluster.PollerHost()), p => p is not null, TimeSpan.FromSeconds(30), "the poller singleton started");

        // More jobs than VMs: the node to pause hosts a job still waiting for a VM, its claim retry timer armed.
        var ids = await cluster.QueueJobsAsync(6, repos, durationSeconds: 4);
        var paused = await Deadline.UntilAsync(
            async () =>
            {
                var queued = (await cluster.GitHub.ListJobsAsync()).Where(j => ids.Contains(j.JobId) && j.Status == "queued").Select(j => j.JobId).ToHashSet();
                return cluster.Alive.OrderBy(n => n == poller).FirstOrDefault(n => JobsQueuedOn(n.ReadLog()).Any(queued.Contains)
                    && n.ReadLog().Contains("failed to allocate runner VM", StringComparison.Ordinal));
            },
            n => n is not null, TimeSpan.FromSeconds(60), "a node hosting a job waiting for a VM (preferably not the poller's)");
        var pausedName = $"sandbox-node-{paused!.Index}";
        cluster.Say($"node {paused.Index} hosts jobs {string.Join(", ", JobsQueuedOn(paused.ReadLog()))}; SIGSTOP");

        await paused.SignalAsync("STOP");
        var pausedAt = DateTimeOffset.UtcNow;
        await Deadline.UntilAsync(() => cluster.Alive.Any(n => n != paused && n.ReadLog().Split('\n').Any(l => l.Contains("Leader is removing", StringComparison.Ordinal) && l.Contains($"[{paused.Address}]", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(60), "the majority downed and removed the paused node");
        cluster.Say($"the majority removed the paused node {(DateTimeOffset.UtcNow - pausedAt).TotalSeconds:F1} s after SIGSTOP");

        // The majority finishes every job, the paused node's included, while the minority is cut off.
        await cluster.WaitAllCompletedAsync(ids, JobsDeadline);
        var claimedBeforeResume = cluster.World.VmAudit().Count;

        await paused.SignalAsync("CONT");
        var resumedAt = Stopwatch.StartNew();
        cluster.Say($"node {paused.Index} SIGCONTed");
        Assert.True(await paused.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the downed node shut itself down after it resumed");
        cluster.Say($"node {paused.Index} exited {resumedAt.Elapsed.TotalSeconds:F1} s after SIGCONT with code {paused.ExitCode}");

        var audit = await cluster.WaitNoVmClaimedAsync(ReleaseDeadline);
        cluster.Say($"audit: {audit}");
        // A claim made by the paused node carries its name and the time it claimed. The majority's writes to a VM the
        // paused node claimed before the pause (it adopts the VM for the job it re-homed, then releases it) keep that older
        // claim's name and time, and an API server on a loaded machine may record a write sent before the SIGSTOP after it:
        // neither is a claim since the pause.
        var claimsByPaused = cluster.World.VmAudit()
            .Where(a => a.Time >= pausedAt && a.Verb != "delete" && a.Annotations.GetValueOrDefault(VmAnnotations.ClaimedBy) == pausedName
                && DateTimeOffset.TryParse(a.Annotations.GetValueOrDefault(VmAnnotations.ClaimedAt), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var claimedAt)
                && claimedAt >= pausedAt)
            .Select(a => $"{a.Time:HH:mm:ss.fff} {a.Verb} {a.Name} claimed at {a.Annotations[VmAnnotations.ClaimedAt]}")
            .ToList();
        cluster.Say($"claims by {pausedName} since the pause: {claimsByPaused.Count}; audit writes after the resume: {cluster.World.VmAudit().Count - claimedBeforeResume}");
        Assert.Empty(claimsByPaused);
        AssertOneClaimPerDecision(cluster, ids, audit);
    }

    private static async Task<IReadOnlyList<string>> JournaledJobsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT DISTINCT persistence_id FROM journal WHERE persistence_id LIKE 'job-%'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private static void AssertEachJobRanOnceOnABlipRunner(IReadOnlyList<long> ids, IReadOnlyList<SandboxJob> jobs, IReadOnlyList<SandboxRunner> runners)
    {
        Assert.All(jobs, j =>
        {
            Assert.Equal("completed", j.Status);
            Assert.StartsWith("blip-", j.RunnerName, StringComparison.Ordinal);
        });
        // One runner per job id: no job was taken by two runners, no runner took two jobs.
        Assert.All(ids, id => Assert.Single(runners, r => r.JobId == id));
        Assert.Equal(runners.Count(r => r.JobId is not null), runners.Where(r => r.JobId is not null).Select(r => r.JobId).Distinct().Count());
    }

    /// <summary>
    /// No job ever held two VMs at once, and every claim in the audit is one its job actor decided: the first, or one
    /// more for each time its runner ran another queued job of the repo (GitHub gives a runner ANY job its labels cover,
    /// so the job is taken up again) or it gave a VM up. A second actor for the same job on another node would add
    /// claims no decision explains.
    /// </summary>
    private static void AssertOneClaimPerDecision(ClusterWorld cluster, IReadOnlyList<long> ids, ClaimAudit audit)
    {
        var logs = string.Join('\n', cluster.Nodes.Where(n => n is not null).Select(n => File.ReadAllText(n!.LogPath)));
        var retakes = ids.ToDictionary(id => id, id =>
            RetakeLine(logs, id) + Occurrences(logs, $"job {id}: giving VM "));
        cluster.Say($"claims beyond the first (runner ran another job, or VM given up): [{string.Join(", ", retakes.Where(r => r.Value > 0).Select(r => $"{r.Key}:{r.Value}"))}]; " +
                    $"claims {audit.Claims.Where(c => ids.Contains(c.Key)).Sum(c => c.Value)} for {ids.Count} jobs");
        Assert.All(ids, id => Assert.InRange(audit.MaxConcurrent.GetValueOrDefault(id), 0, 1));
        // At most: a job whose runner-to-be was beaten to it by another job's runner never claims at all.
        Assert.All(ids, id => Assert.InRange(audit.Claims.GetValueOrDefault(id), 0, 1 + retakes[id]));
    }

    private static int RetakeLine(string logs, long id) =>
        Regex.Matches(logs, $@"job {id} \([^)]*\): still queued after our runner ran another job; taking it up again").Count;

    private static List<long> JobsQueuedOn(string log) =>
        JobQueuedLine().Matches(log).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToList();

    private static int Occurrences(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string Describe(IReadOnlyList<SandboxJob> jobs, IReadOnlyList<long> ids) =>
        string.Join(", ", jobs.Where(j => ids.Contains(j.JobId)).GroupBy(j => j.Status).Select(g => $"{g.Count()} {g.Key}"));

    [GeneratedRegex(@"job (\d+) \([^)]*\): queued with labels")]
    private static partial Regex JobQueuedLine();
}
