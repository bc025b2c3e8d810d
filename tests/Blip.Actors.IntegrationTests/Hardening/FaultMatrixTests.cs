using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>
/// Faults injected into GitHub. Each test asserts the end state: every matching job got
/// exactly one runner, no VM is left claimed, no runner registration is left behind. The fault matrix is three classes
/// (<see cref="FaultMatrixTests"/> for GitHub, <see cref="KubernetesFaultTests"/>, <see cref="VmFaultTests"/>) so that
/// xunit runs them side by side.
/// </summary>
public sealed class FaultMatrixTests
{
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
    public async Task A_generate_jitconfig_422_saying_the_endpoint_has_been_spammed_is_retried_with_backoff_on_the_same_vm()
    {
        const string Jit = "POST /repos/{o}/{r}/actions/runners/generate-jitconfig";
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        await world.GitHub.SetFaultsAsync(new SandboxFaults(Endpoints: [new EndpointFault(Jit, FailCount: 2, Status: 422, Message: EndpointFault.SpammedMessage)]));
        await world.StartControllerAsync();

        var job = (await EndState.QueueAsync(world, 1))[0];

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, [job]);
        Assert.True(world.Log.Contains($"job {job} (org/repo): failed to create JIT runner config: HTTP 422 (GitHub says the endpoint has been spammed); retrying in"));
        // Two refusals, then the registration that served the job; all on the VM first claimed.
        Assert.Equal(3, (await world.GitHub.GetStatsAsync()).ByEndpoint[Jit].Total);
        Assert.Single(world.ClaimsOf(job));
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
}
