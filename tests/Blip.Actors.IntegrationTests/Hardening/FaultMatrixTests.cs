using k8s;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;
using Blip.Sandbox.Kubernetes;
using Blip.Sandbox.Pool;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>
/// Faults injected into GitHub, Kubernetes and SSH. Each test asserts the end state: every matching job got
/// exactly one runner, no VM is left claimed, no runner registration is left behind.
/// </summary>
public sealed class FaultMatrixTests
{
    /// <summary>How long the Kubernetes API refuses everything in the outage test: the length of the fault (the test's
    /// name), pacing, not a wait for a state.</summary>
    private static readonly TimeSpan KubeOutage = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(500, 0.1)]
    [InlineData(502, 0.3)]
    [InlineData(503, 0.2)]
    public async Task GitHub_answering_5xx_to_a_share_of_all_calls(int status, double rate)
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.GitHub.SetFaultsAsync(new SandboxFaults(Endpoints: [new EndpointFault("*", ErrorRate: rate, Status: status)]));
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 5);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.True((await world.GitHub.GetStatsAsync()).ByEndpoint.Values.Sum(e => e.ByStatus.GetValueOrDefault(key)) > 0, "faults were injected");
    }

    [Fact]
    public async Task Generate_jitconfig_registering_the_runner_and_then_answering_503()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        await world.GitHub.SetFaultsAsync(new SandboxFaults(Endpoints: [new EndpointFault("POST /repos/{o}/{r}/actions/runners/generate-jitconfig", FailCount: 2, Status: 503, RegisterThenFail: true)]));
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 2);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task Kubernetes_failing_a_third_of_vm_writes_and_dropping_watches()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        world.Sandbox.Kube.Faults.Errors = [new KubeFaults.ErrorRule("update", "virtualmachines", 0.33), new KubeFaults.ErrorRule("patch", "virtualmachines", 0.33)];
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 4);
        await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, EndState.Long, "a claim");
        world.Sandbox.Kube.Store.DropWatches();

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task A_vm_presenting_another_host_key_is_refused_released_and_never_trusted()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var liar = world.Sandbox.Pool.Vms[0].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(liar, VmMisbehaviour.WrongHostKey);
        var honest = world.Sandbox.Pool.Vms[1].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(honest, VmMisbehaviour.RefuseConnections);
        await world.StartControllerAsync(o => o.SshAttempts = 2);

        var jobs = await EndState.QueueAsync(world, 1);
        // Both first VMs fail: the liar at once (never retried), the refusing one after its attempts; replacements work.
        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

        Assert.Contains(world.Log.Lines, l => l.Contains($"VM {liar} presented a host key other than blip.io/host-key"));
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("started on VM " + liar));
        Assert.Contains(world.Sandbox.VmAudit(), a => a.Name == liar && a.Verb == "delete");
        Assert.Equal(1, world.Log.Count($"SSH to VM {liar} failed (HostKeyMismatch"));
    }

    [Fact]
    public async Task A_vm_without_the_runner_dir_is_given_up_and_the_job_runs_elsewhere()
    {
        // One VM's image lacks the runner: a fault of that VM (every VM alike is a configuration fault: ConfigurationFaultTests).
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var bad = world.Sandbox.Pool.Vms[0].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(bad, VmMisbehaviour.RunnerMissing);
        await world.StartControllerAsync(o => o.SshAttempts = 1);

        var jobs = await EndState.QueueAsync(world, 1);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        Assert.Contains(world.Log.Lines, l => l.Contains($"VM {bad}: runner dir /home/runner/actions-runner is missing"));
        Assert.Contains(world.Sandbox.VmAudit(), a => a.Name == bad && a.Verb == "delete");
        Assert.Equal(2, world.ClaimsOf(jobs[0]).Count);
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("configuration fault"));
        // The given-up VM's registration was deleted: two registrations, both gone, one of which ran the job.
        var runners = await world.GitHub.ListRunnersAsync(all: true);
        Assert.Equal(2, runners.Count);
        Assert.All(runners, r => Assert.NotNull(r.RemovedAt));
    }

    [Fact]
    public async Task A_vm_with_a_malformed_host_key_annotation_is_named_given_up_and_the_job_runs_elsewhere()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var bad = world.Sandbox.Pool.Vms[0].Name;
        var patch = new k8s.Models.V1Patch("""{"metadata":{"annotations":{"blip.io/host-key":"ssh-ed25519 !!not-base64!!"}}}""", k8s.Models.V1Patch.PatchType.MergePatch);
        await world.Sandbox.KubeAdmin.CustomObjects.PatchNamespacedCustomObjectAsync(patch, "kubevirt.io", "v1", "blip", "virtualmachines", bad);
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 1);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        Assert.Contains(world.Log.Lines, l => l.Contains($"VM {bad}: blip.io/host-key 'ssh-ed25519 !!not-base64!!' is not an ssh-ed25519 key"));
        Assert.Contains(world.Sandbox.VmAudit(), a => a.Name == bad && a.Verb == "delete");
        // The key was checked before generate-jitconfig: the bad VM cost no runner registration.
        Assert.Single(await world.GitHub.ListRunnersAsync(all: true));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task A_permanent_generate_jitconfig_error_is_logged_with_its_status_releases_the_vm_and_is_not_retried(int status)
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.GitHub.SetFaultsAsync(new SandboxFaults(Endpoints: [new EndpointFault("POST /repos/{o}/{r}/actions/runners/generate-jitconfig", FailCount: 1, Status: status)]));
        await world.StartControllerAsync();

        var job = (await EndState.QueueAsync(world, 1))[0];

        await Deadline.UntilAsync(() => world.Log.Contains($"job {job} (org/repo): failed to create JIT runner config: HTTP {status}"), EndState.Long, "the failure logged with its status");
        var claim = Assert.Single(world.ClaimsOf(job));
        await Deadline.UntilAsync(() => Task.FromResult(world.Sandbox.VmAudit().Any(a => a.Uid == claim.Uid && a.Verb == "delete")), ok => ok, EndState.Long, "VM released");
        // The job is still queued: every poll sights it again. Four more polls sent (each only after the previous reply was
        // handled) give a retry on sighting three chances to call generate-jitconfig again.
        var polls = (await world.GitHub.GetStatsAsync()).ByEndpoint["GET /repos/{o}/{r}/actions/runs"].Total;
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint["GET /repos/{o}/{r}/actions/runs"].Total >= polls + 4, EndState.Long, "four more polls");
        Assert.Equal(1, (await world.GitHub.GetStatsAsync()).ByEndpoint["POST /repos/{o}/{r}/actions/runners/generate-jitconfig"].Total);
        Assert.Single(world.ClaimsOf(job));
    }

    [Fact]
    public async Task The_kubernetes_api_failing_everything_for_ten_seconds_mid_burst_loses_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        // A registration made just before the outage can be left behind, offline and never redeemed, by a job that then
        // ran on another runner: the orphan sweeper deletes it (issue 14 item 8), here with test-sized periods.
        await world.StartControllerAsync(o =>
        {
            o.RunnerSweepInterval = TimeSpan.FromSeconds(1);
            o.OrphanRunnerGrace = TimeSpan.FromSeconds(3);
        });
        var jobs = await EndState.QueueAsync(world, 5, durationSeconds: 2);
        await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, EndState.Long, "a claim");

        world.Sandbox.Kube.Faults.Errors = [new KubeFaults.ErrorRule(null, null, 1.0)];
        world.Sandbox.Kube.Store.DropWatches();
        // The outage is met (a request refused: the controller relists after the dropped watches), then kept up for
        // its length: pacing of the fault, not a wait for a state.
        var refusedBefore = world.Sandbox.Kube.Faults.Injected;
        await Deadline.UntilAsync(() => world.Sandbox.Kube.Faults.Injected > refusedBefore, EndState.Long, "a Kubernetes request refused by the outage");
        await Task.Delay(KubeOutage);
        world.Sandbox.Kube.Faults.Clear();

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task A_vm_deleted_under_the_controller_mid_provisioning_is_given_up_and_the_job_runs_elsewhere()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var hanging = world.Sandbox.Pool.Vms[0].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(hanging, VmMisbehaviour.HangHandshake);
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 1);
        await Deadline.UntilAsync(() => Task.FromResult(world.ClaimsOf(jobs[0]).Any(c => c.Name == hanging)), ok => ok, EndState.Long, "the hanging VM claimed");
        await world.Sandbox.KubeAdmin.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", "virtualmachines", hanging);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        Assert.Contains(world.Log.Lines, l => l.Contains($"giving VM {hanging} up"));
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("started on VM " + hanging));
    }

    [Fact]
    public async Task GitHub_holding_a_fifth_of_all_calls_past_the_request_timeout()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.GitHub.SetFaultsAsync(new SandboxFaults(Endpoints: [new EndpointFault("*", ErrorRate: 0.2, Status: 0, TimeoutSeconds: 6)]));
        await world.StartControllerAsync(o => o.GitHubRequestTimeout = TimeSpan.FromSeconds(1));

        var jobs = await EndState.QueueAsync(world, 4);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        // The controller gave up on held calls (the emulator saw the client go: 499) rather than waiting for the 504.
        var stats = await world.GitHub.GetStatsAsync();
        Assert.True(stats.ByEndpoint.Values.Sum(e => e.ByStatus.GetValueOrDefault("499")) > 0, "calls were abandoned at the timeout");
    }

    [Fact]
    public async Task The_rate_limit_running_out_mid_burst_pauses_everything_until_the_reset_and_loses_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.StartControllerAsync();
        var jobs = await EndState.QueueAsync(world, 6, durationSeconds: 2);
        await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, EndState.Long, "a claim");

        await world.GitHub.SetBudgetAsync(world.Sandbox.Pat, remaining: 0, resetSeconds: 8);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        var stats = await world.GitHub.GetStatsAsync();
        Assert.True(stats.ByEndpoint.Values.Sum(e => e.ByStatus.GetValueOrDefault("403")) > 0, "the budget ran out while jobs were in flight");
        // Whichever call met the exhaustion (a poll, a JIT config, a runner check) says why it waits.
        Assert.Contains(world.Log.Lines, l => l.Contains("rate limited", StringComparison.Ordinal) || l.Contains("held back by the rate-limit governor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_slow_kubernetes_api_answering_every_request_after_400_ms_loses_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        world.Sandbox.Kube.Faults.Latency = TimeSpan.FromMilliseconds(400);
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 4);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task A_vm_adopted_with_an_unreadable_claimed_at_is_capped_from_the_sighting_not_from_the_adoption()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var vm = world.Sandbox.Pool.Vms[0].Name;
        var hostKey = await AnnotationAsync(world, vm, "blip.io/host-key");
        // Without its host key the only VM is not claimable: the job waits in Claiming.
        await MergeAnnotationsAsync(world, vm, """{"blip.io/host-key":null}""");
        await world.StartControllerAsync(o => o.MaxDurationSeconds = 10);
        var job = (await EndState.QueueAsync(world, 1, durationSeconds: 120))[0];
        await Deadline.UntilAsync(() => Task.FromResult(world.Log.Contains($"job {job} (org/repo): failed to allocate runner VM")), ok => ok, EndState.Long, "the job waiting for a VM");
        var waitingSince = DateTimeOffset.UtcNow; // the job was sighted before this

        // A claim for this job appears (as one made before a crash would), its claimed-at unreadable.
        await MergeAnnotationsAsync(world, vm, $$"""
            {"blip.io/host-key":"{{hostKey}}","blip.io/session-id":"actions-{{job}}","blip.io/claimed-at":"not-a-time",
             "blip.io/max-duration":"forever","blip.io/claimed-by":"another-node"}
            """);

        var warned = await Deadline.UntilAsync(
            () => Task.FromResult(world.Log.Lines.FirstOrDefault(l => l.Contains($"VM {vm}: blip.io/claimed-at 'not-a-time' is not an RFC 3339 time"))),
            l => l is not null, EndState.Long, "the unreadable claimed-at named");
        await Deadline.UntilAsync(
            () => Task.FromResult(world.Sandbox.VmAudit().FirstOrDefault(a => a.Name == vm && a.Verb == "delete")),
            a => a is not null, EndState.Long, "the adopted VM released");
        // Counted from the adoption, the cap would start after the annotation was written; counted from the sighting it
        // starts before the job was seen waiting (and is already due). The warning names the time, so no clock is raced.
        var from = DateTimeOffset.Parse(System.Text.RegularExpressions.Regex.Match(warned!, @"counting its hard cap from (\S+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(from <= waitingSince, $"the cap counted from {from:O}, after the job was seen waiting at {waitingSince:O}");
        Assert.Contains(world.Log.Lines, l => l.Contains($"job {job}: VM {vm} reached the hard cap of 10 s"));
    }

    [Fact]
    public async Task Claims_racing_another_writer_get_409_and_move_on_to_other_vms()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.StartControllerAsync();
        using var stop = new CancellationTokenSource();
        // Another writer touches every VM as fast as the API lets it (a merge patch: it never conflicts itself), so a
        // claim made from the version the controller saw a moment ago is stale: a real 409, not an injected one.
        var racer = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                await Task.WhenAll(world.Sandbox.Pool.ReadyVmNames().Select(vm => MergeAnnotationsAsync(world, vm, $$"""{"example.com/touched":"{{n}}"}""")));
            }
        });

        var jobs = await EndState.QueueAsync(world, 5);
        await Deadline.UntilAsync(() => world.Log.Contains("(409 Conflict: another claim or writer won); trying another"), EndState.Long, "a claim losing the race");
        await stop.CancelAsync();
        await racer;

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    [Fact]
    public async Task Watches_resumed_after_the_history_was_compacted_get_410_list_again_and_lose_nothing()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        await world.StartControllerAsync();
        var jobs = await EndState.QueueAsync(world, 4, durationSeconds: 2);
        await Deadline.UntilAsync(() => Task.FromResult(jobs.Sum(j => world.ClaimsOf(j).Count)), n => n >= 1, EndState.Long, "a claim");

        await world.Sandbox.UpsertConfigMapAsync("unrelated", new Dictionary<string, string> { ["at"] = DateTime.UtcNow.ToString("O") }); // every watcher is now behind
        world.Sandbox.Kube.Store.Compact();
        world.Sandbox.Kube.Store.DropWatches();

        await Deadline.UntilAsync(() => world.Log.Contains("watch version expired (410 Gone), listing again"), EndState.Long, "a watch listing again");
        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
    }

    private static async Task<string> AnnotationAsync(PipelineWorld world, string vm, string key)
    {
        var raw = await world.Sandbox.KubeAdmin.CustomObjects.GetNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", "virtualmachines", vm);
        var json = System.Text.Json.Nodes.JsonNode.Parse(((System.Text.Json.JsonElement)raw).GetRawText())!;
        return json["metadata"]!["annotations"]![key]!.GetValue<string>();
    }

    private static Task MergeAnnotationsAsync(PipelineWorld world, string vm, string annotationsJson) =>
        world.Sandbox.KubeAdmin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new k8s.Models.V1Patch($$$"""{"metadata":{"annotations":{{{annotationsJson}}}}}""", k8s.Models.V1Patch.PatchType.MergePatch),
            "kubevirt.io", "v1", "blip", "virtualmachines", vm);
}
