using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>Job actors: dedup, allocation retries, permanent JIT errors.</summary>
public sealed class JobLifecycleTests
{
    [Fact]
    public async Task A_job_seen_by_fifty_polls_while_no_vm_is_free_gets_exactly_one_vm_as_soon_as_one_is_ready()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(100));
        // A poll lists the queued runs (one GET; the other statuses every PollInProgressEvery-th poll): 12 s of 100 ms polls.
        var (first, waiting) = await OneJobRunningAndOneWaitingForAVmAsync(world, firstSeconds: 12);
        var done = await world.WaitForJobAsync(waiting.JobId, j => j.Status == "completed", "served once a VM was free");
        Assert.StartsWith($"blip-{waiting.JobId}-", done.RunnerName);
        var runsPolls = await RunsPollsAsync(world);
        Assert.True(runsPolls >= 50, $"only {runsPolls} polls");
        Assert.Single(world.ClaimsOf(waiting.JobId));
        Assert.Single(world.ClaimsOf(first.JobId));
        var runners = await world.GitHub.ListRunnersAsync(all: true);
        Assert.Single(runners, r => r.JobId == waiting.JobId);
    }

    [Fact]
    public async Task A_job_cancelled_while_waiting_for_a_vm_stops_claiming_at_the_next_poll_and_never_takes_a_vm()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        // The fallback (no sighting for this long) cannot be what ends the claim here.
        await world.StartControllerAsync(o => o.QueuedSightingTimeout = TimeSpan.FromMinutes(5));
        var (first, waiting) = await OneJobRunningAndOneWaitingForAVmAsync(world, firstSeconds: 8);

        await world.GitHub.CancelJobAsync(waiting.JobId);

        // The sighting fallback is five minutes away: within this hang guard only the next poll can have stopped the claim.
        await Deadline.UntilAsync(() => world.Log.Contains($"job {waiting.JobId} (org/repo): no longer queued"), PipelineWorld.Deadline, "claiming stopped at the next poll");
        await world.WaitForJobAsync(first.JobId, j => j.Status == "completed", "the first job done");
        var used = world.ClaimsOf(first.JobId).Single().Uid;
        // A fresh VM: another uid (the pool may give it the used VM's name again).
        await Deadline.UntilAsync(() => world.Sandbox.Pool.ReadyVmNames().Any(n =>
            world.Sandbox.Kube.Store.TryGet(Blip.Sandbox.Kubernetes.KubeResource.VirtualMachines, world.Sandbox.Namespace, n)?["metadata"]?["uid"]?.GetValue<string>() is { } uid && uid != used),
            PipelineWorld.Deadline, "a fresh VM ready");
        // A claimer still running was woken when the fresh VM became claimable, before this next job was even queued.
        // Once the next job holds the fresh VM, the inventory has offered it: a live claimer would have claimed it first.
        var next = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);
        await Deadline.UntilAsync(() => Task.FromResult(world.ClaimsOf(next.JobId).Count + world.ClaimsOf(waiting.JobId).Count), n => n > 0, PipelineWorld.Deadline, "the fresh VM claimed");
        Assert.Empty(world.ClaimsOf(waiting.JobId));
    }

    [Fact]
    public async Task A_pat_without_administration_write_fails_jit_once_releases_the_vm_and_does_not_retry()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var readOnly = await world.GitHub.CreateTokenAsync(new CreateTokenRequest(["*"], Administration: "read"));
        await world.Sandbox.WritePatAsync(readOnly);
        await world.StartControllerAsync();

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"]);

        await Deadline.UntilAsync(() => world.Log.Contains($"job {job.JobId} (org/repo): failed to create JIT runner config: HTTP 403"), PipelineWorld.Deadline, "JIT failure logged");
        var claim = Assert.Single(world.ClaimsOf(job.JobId));
        await Deadline.UntilAsync(() => Task.FromResult(world.Sandbox.VmAudit().Any(a => a.Uid == claim.Uid && a.Verb == "delete")), ok => ok, PipelineWorld.Deadline, "VM released");
        await Deadline.UntilAsync(async () => await world.ClaimedVmsAsync(), vms => vms.Count == 0, PipelineWorld.Deadline, "no VM claimed");
        var before = world.Sandbox.VmAudit().Count(a => a.User == "controller");
        // The job is still queued: every poll sights it again. Three more polls answered (the fourth is sent only once the
        // third's reply was handled) give a retry on sighting three chances to claim again.
        var polls = await RunsPollsAsync(world);
        await Deadline.UntilAsync(() => RunsPollsAsync(world), n => n >= polls + 4, PipelineWorld.Deadline, "four more polls");
        Assert.Equal(before, world.Sandbox.VmAudit().Count(a => a.User == "controller"));
        Assert.Equal(1, (await world.GitHub.GetStatsAsync()).ByEndpoint["POST /repos/{o}/{r}/actions/runners/generate-jitconfig"].Total);
        Assert.Equal("queued", (await world.GitHub.GetJobAsync(job.JobId))!.Status);
    }

    [Fact]
    public async Task The_hard_cap_releases_the_vm_whatever_the_runner_is_doing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.StartControllerAsync(o => o.MaxDurationSeconds = 10);

        var job = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 120);

        await world.WaitForJobAsync(job.JobId, j => j.Status == "in_progress", "running");
        var claim = Assert.Single(world.ClaimsOf(job.JobId));
        Assert.Equal("10", claim.Annotations["blip.io/max-duration"]);
        await Deadline.UntilAsync(() => Task.FromResult(world.Sandbox.VmAudit().FirstOrDefault(a => a.Uid == claim.Uid && a.Verb == "delete")), d => d is not null, PipelineWorld.Deadline, "VM released at the cap");
        var deleted = world.Sandbox.VmAudit().First(a => a.Uid == claim.Uid && a.Verb == "delete").Time;
        var cap = claim.Time.AddSeconds(10);
        // Not before the cap (1 s for the claim's whole-second claimed-at); the job would run 120 s, so a release before its
        // end with the hard-cap line is the cap's doing however slow the machine.
        Assert.True(deleted >= cap.AddSeconds(-1) && deleted < claim.Time.AddSeconds(120), $"released at {deleted:O}, cap {cap:O}");
        Assert.True(world.Log.Contains($"job {job.JobId}: VM {claim.Name} reached the hard cap"), "the hard cap named as the reason");
    }

    private static async Task<int> RunsPollsAsync(PipelineWorld world) =>
        (await world.GitHub.GetStatsAsync()).ByEndpoint.TryGetValue("GET /repos/{o}/{r}/actions/runs", out var runs) ? runs.Total : 0;

    /// <summary>The only VM busy with a first job; a second job queued, its actor failing to allocate a VM.</summary>
    private static async Task<(QueuedJob First, QueuedJob Waiting)> OneJobRunningAndOneWaitingForAVmAsync(PipelineWorld world, int firstSeconds)
    {
        var first = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: firstSeconds);
        await world.WaitForJobAsync(first.JobId, j => j.Status == "in_progress", "the only VM busy");
        var waiting = await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], durationSeconds: 1);
        await Deadline.UntilAsync(() => world.Log.Contains($"job {waiting.JobId} (org/repo): failed to allocate runner VM"), PipelineWorld.Deadline, "allocation failure logged");
        return (first, waiting);
    }
}
