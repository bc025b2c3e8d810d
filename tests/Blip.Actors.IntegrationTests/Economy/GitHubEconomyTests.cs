using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;
using Xunit.Abstractions;

namespace Blip.Actors.IntegrationTests.Economy;

/// <summary>What the controller costs a PAT, as the GitHub emulator counts it (counted = charged to the primary limit).</summary>
public sealed class GitHubEconomyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_idle_repo_costs_nothing_after_the_first_poll()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/idle"]);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(250));
        await Deadline.UntilAsync(world.StatsAsync, s => s.Total >= 4, PipelineWorld.Deadline, "first polls");
        var warm = await world.GitHub.GetStatsAsync();

        var after = await Deadline.UntilAsync(world.StatsAsync, s => s.Total >= warm.Total + 40, PipelineWorld.Deadline, "twenty more polls");

        output.WriteLine($"idle window: {after.Total - warm.Total} requests, {after.Counted - warm.Counted} counted, {after.NotModified - warm.NotModified} not modified");
        Assert.Equal(warm.Counted, after.Counted);
    }

    [Fact]
    public async Task A_large_run_whose_jobs_wait_for_vms_costs_nothing_at_each_poll()
    {
        // 40 jobs in one run: its jobs listing (~35 K characters) is larger than a small reply, and with no VM the jobs stay
        // queued, so the run's jobs are read at every poll. Unchanged, each read must be a free 304.
        const string jobs = "GET /repos/{o}/{r}/actions/runs/{run_id}/jobs";
        await using var world = await PipelineWorld.StartAsync(vms: 0, repos: ["org/matrix"]);
        var first = await world.GitHub.QueueJobAsync("org/matrix", ["self-hosted", "blip"]);
        for (var i = 1; i < 40; i++)
        {
            await world.GitHub.QueueJobAsync(new QueueJobRequest("org/matrix", ["self-hosted", "blip"], RunId: first.RunId));
        }

        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(250));
        static int Reads(SandboxStats s) => s.ByEndpoint.TryGetValue(jobs, out var c) ? c.Total : 0;
        var warm = await Deadline.UntilAsync(world.StatsAsync, s => Reads(s) >= 2, PipelineWorld.Deadline, "the run's jobs read twice");

        var after = await Deadline.UntilAsync(world.StatsAsync, s => Reads(s) >= Reads(warm) + 10, PipelineWorld.Deadline, "ten more reads of the run's jobs");

        output.WriteLine($"{Reads(after) - Reads(warm)} jobs reads, {after.Counted - warm.Counted} counted");
        Assert.Equal(warm.Counted, after.Counted);
    }

    [Fact]
    public async Task A_job_from_queue_to_release_costs_a_handful_of_counted_requests()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/repo"]);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(250));
        await Deadline.UntilAsync(world.StatsAsync, s => s.Total >= 4, PipelineWorld.Deadline, "first polls");
        var before = await world.GitHub.GetStatsAsync();

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);
        await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed");
        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, PipelineWorld.Deadline, "VM released");
        // Let discovery settle on the final state (the run completed), then count.
        var settled = await world.GitHub.GetStatsAsync();
        var after = await Deadline.UntilAsync(world.StatsAsync, s => s.Total >= settled.Total + 8, PipelineWorld.Deadline, "four more polls");

        var counted = after.Counted - before.Counted;
        int Of(string endpoint) =>
            (after.ByEndpoint.TryGetValue(endpoint, out var a) ? a.Counted : 0) - (before.ByEndpoint.TryGetValue(endpoint, out var b) ? b.Counted : 0);
        output.WriteLine($"one job: {counted} counted requests ({string.Join(", ", after.ByEndpoint.Keys.Select(e => $"{e}: {Of(e)}"))})");
        // Bounds from what changes, not from timing (how many polls fall inside each state depends on the machine): a
        // listing is counted only when it changed, and one job changes each of the two runs listings (queued, in_progress)
        // at most twice (the run enters it and leaves it); a run's jobs are fetched only for a changed listing; one
        // registration; the runner seen in at most three states (idle, busy, gone). Everything else is a free 304.
        // A queued run's jobs are read at every poll (a 304 while nothing changed), so one more read is counted when the
        // job starts between a poll's runs listing (still queued, a 304) and its jobs read (seen once under 2 busy loops).
        var runs = Of("GET /repos/{o}/{r}/actions/runs");
        Assert.Equal(1, Of("POST /repos/{o}/{r}/actions/runners/generate-jitconfig"));
        Assert.InRange(runs, 1, 4);
        Assert.InRange(Of("GET /repos/{o}/{r}/actions/runs/{run_id}/jobs"), 1, runs + 1);
        Assert.InRange(Of("GET /repos/{o}/{r}/actions/runners/{runner_id}"), 0, 3);
        // The node's first runner start lists actions/runner's releases once (then hourly): the node's cost, not the job's.
        Assert.Equal(1, Of("GET /repos/actions/runner/releases"));
        Assert.Equal(counted, runs + Of("GET /repos/{o}/{r}/actions/runs/{run_id}/jobs") + Of("POST /repos/{o}/{r}/actions/runners/generate-jitconfig")
            + Of("GET /repos/{o}/{r}/actions/runners/{runner_id}") + Of("GET /repos/actions/runner/releases"));
    }

    [Fact]
    public async Task An_exhausted_budget_sends_nothing_until_the_reset_then_polling_resumes_by_itself()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/repo"]);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(250));
        await Deadline.UntilAsync(world.StatsAsync, s => s.Total >= 4, PipelineWorld.Deadline, "first polls");

        await world.GitHub.SetBudgetAsync(world.Sandbox.Pat, remaining: 0, resetSeconds: 6);
        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);
        // The first call after the exhaustion is refused (403, remaining 0); after it nothing is sent until the reset.
        var refused = await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint.Values.Any(e => e.ByStatus.ContainsKey("403")), PipelineWorld.Deadline, "the refusal");
        var exhaustedAt = DateTimeOffset.UtcNow;

        SandboxJob done;
        try
        {
            done = await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "served after the reset");
        }
        catch (TimeoutException)
        {
            var stats = await world.GitHub.GetStatsAsync();
            output.WriteLine(string.Join("\n", stats.ByEndpoint.Select(e => $"{e.Key}: {e.Value.Total} {string.Join(",", e.Value.ByStatus.Select(b => b.Key + "=" + b.Value))}")));
            throw;
        }

        output.WriteLine($"served {(done.StartedAt!.Value - exhaustedAt).TotalSeconds:F1} s after the exhaustion was seen");
        // The emulator refuses every call until the reset with 403: the one refusal above is the only one, so nothing was
        // sent before the reset, however long the exhaustion lasted on this machine. Serving the job shows polling resumed.
        var after = await world.GitHub.GetStatsAsync();
        Assert.Equal(1, after.ByEndpoint.Values.Sum(e => e.ByStatus.GetValueOrDefault("403")));
        Assert.Contains(world.Log.Lines, l => l.Contains("rate limit", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_secondary_limit_retry_after_is_honoured()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/repo"]);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(250));
        await Deadline.UntilAsync(world.StatsAsync, s => s.Total >= 4, PipelineWorld.Deadline, "first polls");

        await world.GitHub.SetFaultsAsync(new SandboxFaults(SecondaryLimit: new SecondaryLimitFault(RetryAfterSeconds: 4)));
        var limited = await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint.Values.Any(e => e.ByStatus.Keys.Any(k => k is "403" or "429")), PipelineWorld.Deadline, "limited");
        var limitedAt = DateTimeOffset.UtcNow;
        await world.GitHub.SetFaultsAsync(SandboxFaults.None);

        var next = await Deadline.UntilAsync(world.StatsAsync, s => s.Total > limited.Total, TimeSpan.FromSeconds(15), "the next request");
        var gap = DateTimeOffset.UtcNow - limitedAt;
        output.WriteLine($"next request {gap.TotalSeconds:F1} s after the limit");
        Assert.True(gap >= TimeSpan.FromSeconds(3.5), $"a request went {gap.TotalSeconds:F1} s after a retry-after of 4 s");
        Assert.True(next.Total > limited.Total);
    }

    [Fact]
    public async Task Fifty_idle_repos_on_one_token_stay_far_under_ten_percent_of_the_hourly_budget()
    {
        var repos = Enumerable.Range(0, 50).Select(i => $"org/r{i}").ToArray();
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: repos);
        await world.StartControllerAsync();
        // Every repo's first poll (one listing per run status, none cached yet, all counted) is behind us once each repo
        // has had a 304: a repo's polls never overlap, so its first 304 comes from its second poll. "Every repo seen" was
        // not enough on a loaded machine: the rest of the first polls fell into the window (20,641 counted/hour).
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByRepo.Count == 50 && s.ByRepo.Values.All(r => r.NotModified > 0),
            PipelineWorld.Deadline, "every repo polled twice");
        var warm = await world.GitHub.GetStatsAsync();
        var started = DateTimeOffset.UtcNow;

        // Two more polls of every repo (a poll lists the queued runs; the other statuses every PollInProgressEvery-th poll).
        var after = await Deadline.UntilAsync(world.StatsAsync, s => s.Total >= warm.Total + (2 * repos.Length), PipelineWorld.Deadline, "a window of polls");

        var window = DateTimeOffset.UtcNow - started;
        var perHour = (after.Counted - warm.Counted) * TimeSpan.FromHours(1) / window;
        output.WriteLine($"50 repos: {after.Total - warm.Total} requests in {window.TotalSeconds:F1} s, {after.Counted - warm.Counted} counted → {perHour:F0} counted/hour");
        Assert.True(perHour < 500, $"{perHour:F0} counted requests per hour");
    }
}
