using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>The controller killed at random points, and the configuration churned, during a burst.</summary>
public sealed class ChaosTests
{
    /// <summary>How many VM writes (claims, marks, releases) the controller makes before each kill, at random: every kill
    /// lands mid-work, after the restarted controller has done something, however fast or slow the machine.</summary>
    private static readonly (int Min, int Max) WritesBeforeKill = (1, 4);

    private static int ControllerVmWrites(PipelineWorld world) => world.Sandbox.VmAudit().Count(a => a.User != "kubevirt-pool");

    [Fact]
    public async Task The_controller_sigkilled_again_and_again_during_a_burst_still_serves_every_job_once()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        // A registration made just before a kill can be left behind, offline and never redeemed, by a job that then ran
        // on another runner: the orphan sweeper deletes it (issue 14 item 8), here with test-sized periods (as in
        // KubernetesFaultTests; with the defaults, 5 min and 2 min, it outlasts the wait for the end state).
        var controller = await world.StartControllerProcessAsync(new Dictionary<string, string>
        {
            ["Blip__RunnerSweepInterval"] = "00:00:01",
            ["Blip__OrphanRunnerGrace"] = "00:00:03",
        });
        var jobs = await EndState.QueueAsync(world, 8, durationSeconds: 2);
        var random = new Random(20261127);

        for (var kill = 0; kill < 4; kill++)
        {
            var writes = ControllerVmWrites(world) + random.Next(WritesBeforeKill.Min, WritesBeforeKill.Max);
            await Deadline.UntilAsync(() => ControllerVmWrites(world) >= writes, EndState.Long, $"kill {kill + 1}: the controller at work");
            System.Diagnostics.Process.GetProcessById(controller.Pid).Kill();
            await Deadline.UntilAsync(() => controller.HasExited, TimeSpan.FromSeconds(10), "killed");
            await controller.DisposeAsync();
            controller = await world.StartControllerProcessAsync();
        }

        try
        {
            await AssertServedOnceNamingLeftoversAsync(world, controller, jobs);
            // No job was claimed twice at the same time: its claims (one per VM it held) never overlapped.
            foreach (var id in jobs)
            {
                var claims = world.ClaimsOf(id);
                var deletes = claims.Select(c => world.Sandbox.VmAudit().FirstOrDefault(a => a.Uid == c.Uid && a.Verb == "delete")?.Time).ToList();
                for (var i = 1; i < claims.Count; i++)
                {
                    Assert.True(deletes[i - 1] is { } released && released <= claims[i].Time.AddSeconds(1),
                        $"job {id} claimed {claims[i].Name} while still holding {claims[i - 1].Name}");
                }
            }
        }
        finally
        {
            await controller.DisposeAsync();
        }
    }

    [Fact]
    public async Task Labels_repos_and_the_pat_churning_during_a_burst_lose_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3, repos: ["org/repo", "org/other"]);
        await world.StartControllerAsync();
        var jobs = await EndState.QueueAsync(world, 4, durationSeconds: 2);
        jobs.AddRange(await EndState.QueueAsync(world, 2, durationSeconds: 2, repo: "org/other"));

        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip,gpu", "org/repo"); // nothing matches, one repo gone
        var rotated = await world.GitHub.CreateTokenAsync(new Blip.Sandbox.GitHub.CreateTokenRequest(["*"]));
        await world.Sandbox.WritePatAsync(rotated);
        await world.Sandbox.DeleteSecretAsync("github-pat");
        await world.Sandbox.DeleteConfigMapAsync("github-actions");
        await Deadline.UntilAsync(() => world.Log.Count("no PAT available") >= 1, PipelineWorld.Deadline, "PAT loss noticed");
        await world.Sandbox.WritePatAsync(rotated);
        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/repo,org/other");

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    /// <summary>For each job not completed: every write to the VMs it claimed (who, when, what) and the fake runner's own log
    /// on a VM directory still there that names its runner, so a runner that stopped mid-job says why.</summary>
    private static async Task<string> UnfinishedStoryAsync(PipelineWorld world, IReadOnlyList<long> jobs)
    {
        try
        {
            return await StoryAsync(world, jobs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException)
        {
            return $"(the unfinished jobs' story could not be read: {e.Message})";
        }
    }

    private static async Task<string> StoryAsync(PipelineWorld world, IReadOnlyList<long> jobs)
    {
        var unfinished = (await world.GitHub.ListJobsAsync()).Where(j => jobs.Contains(j.JobId) && j.Status != "completed").ToList();
        var parts = new List<string>();
        foreach (var job in unfinished)
        {
            var uids = world.ClaimsOf(job.JobId).Select(c => c.Uid).ToHashSet();
            var writes = world.Sandbox.VmAudit().Where(a => uids.Contains(a.Uid))
                .Select(a => $"{a.Time:HH:mm:ss.fff} {a.Verb} {a.Name} by {a.User}{(a.Annotations.TryGetValue("blip.io/session-id", out var session) ? $" session {session}" : "")}");
            parts.Add($"job {job.JobId} ({job.Status} on {job.RunnerName}): VM writes [{string.Join("; ", writes)}]");
            if (job.RunnerName is { } runner)
            {
                foreach (var file in Directory.EnumerateFiles(world.StateDir, "runner.log", SearchOption.AllDirectories))
                {
                    var text = File.ReadAllText(file);
                    if (text.Contains(runner, StringComparison.Ordinal))
                    {
                        parts.Add($"{Path.GetRelativePath(world.StateDir, file)}: {text.ReplaceLineEndings(" / ")}");
                    }
                }
            }
        }

        return string.Join(" || ", parts);
    }

    /// <summary>The end state; a registration left over fails with what every controller life logged about its job, on
    /// one line (CI prints a failure's first line only).</summary>
    private static async Task AssertServedOnceNamingLeftoversAsync(PipelineWorld world, Blip.Sandbox.Cli.ControllerProcess controller, IReadOnlyList<long> jobs)
    {
        try
        {
            await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        }
        catch (TimeoutException e)
        {
            var left = await world.GitHub.ListRunnersAsync();
            var lines = File.ReadAllLines(controller.LogPath); // every life of the controller appends to it
            var about = left.SelectMany(r => lines.Where(l => l.Contains(r.Name, StringComparison.Ordinal)
                    || (Blip.Actors.Runners.RunnerName.JobOf(r.Name) is { } job && l.Contains($"job {job}", StringComparison.Ordinal))))
                .Distinct().TakeLast(40);
            throw new TimeoutException($"{e.Message}; left: {string.Join(", ", left.Select(r => $"{r.Name} ({r.Status})"))}; the log about them: {string.Join(" | ", about)}" +
                                       $"; {await UnfinishedStoryAsync(world, jobs)}", e);
        }
    }
}
