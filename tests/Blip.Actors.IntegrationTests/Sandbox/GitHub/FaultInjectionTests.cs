using System.Net;
using Blip.Sandbox.GitHub;
using Octokit;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>Faults set at run time: error bursts, the half-registration, latency.</summary>
public sealed class FaultInjectionTests() : EmulatorTestBase(Repo)
{
    private const string Repo = "acme/faulty";
    private const string JitEndpoint = "POST /repos/{o}/{r}/actions/runners/generate-jitconfig";

    /// <summary>The held calls' client gives up after this (a hang guard for the test, long enough that a plain call on
    /// a loaded machine is answered well within it)...</summary>
    private static readonly TimeSpan ClientGivesUpAfter = TimeSpan.FromSeconds(5);

    /// <summary>...and the latency is far beyond it, so a held call can only end by the client giving up.</summary>
    private static readonly TimeSpan HeldFor = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task A_half_registration_answers_503_but_leaves_the_runner_so_the_retry_gets_409()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        await Admin.SetFaultsAsync(new SandboxFaults([new EndpointFault(JitEndpoint, FailCount: 1, Status: 503, RegisterThenFail: true)]));

        var failed = await Assert.ThrowsAsync<ApiException>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-half", "self-hosted"));
        var retry = await Assert.ThrowsAsync<ApiException>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-half", "self-hosted"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
        var halfRegistered = Assert.Single((await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "faulty")).Runners);
        Assert.Equal("blip-half", halfRegistered.Name);
    }

    [Fact]
    public async Task An_error_burst_fails_the_next_calls_of_that_endpoint_only()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        Emulator.SetFaults(new SandboxFaults([new EndpointFault(JitEndpoint, FailCount: 2, Status: 502)]));

        var first = await Assert.ThrowsAsync<ApiException>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-a", "self-hosted"));
        var runs = await client.Actions.Workflows.Runs.List("acme", "faulty");
        var second = await Assert.ThrowsAsync<ApiException>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-b", "self-hosted"));
        var third = await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-c", "self-hosted");

        Assert.Equal(HttpStatusCode.BadGateway, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, second.StatusCode);
        Assert.Equal(0, runs.TotalCount);
        Assert.Equal(HttpStatusCode.Created, third.HttpResponse.StatusCode);
        Assert.Equal(["blip-c"], (await Admin.ListRunnersAsync(all: true)).Select(r => r.Name));
        Assert.Equal(2, (await Admin.GetStatsAsync()).ByEndpoint[JitEndpoint].ByStatus["502"]);
    }

    [Fact]
    public async Task A_timeout_holds_the_call_and_may_still_register_the_runner()
    {
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        client.SetRequestTimeout(TimeSpan.FromMilliseconds(500));
        await Admin.SetFaultsAsync(new SandboxFaults([new EndpointFault(JitEndpoint, FailCount: 1, Status: 0, TimeoutSeconds: 3, RegisterThenFail: true)]));

        await Assert.ThrowsAnyAsync<Exception>(() => OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-timeout", "self-hosted"));

        Assert.Equal(["blip-timeout"], (await Admin.ListRunnersAsync()).Select(r => r.Name));
    }

    [Fact]
    public async Task Added_latency_holds_every_call_of_the_endpoint_and_no_other()
    {
        // The emulator applies latency before it handles a call and records a call its client gave up on during the
        // wait as 499. A latency far beyond the client's timeout therefore shows in the emulator's own record, with no
        // clock read by the test: without the latency each held call would be answered (200) long before the client
        // gives up. How long a latency takes is the benchmarks' business.
        const string runsList = "GET /repos/{o}/{r}/actions/runs";
        var (client, _) = OctokitFor.FullAccess(Emulator, Repo);
        client.SetRequestTimeout(ClientGivesUpAfter);
        await Admin.SetFaultsAsync(new SandboxFaults([new EndpointFault(runsList, ErrorRate: 0, LatencyMs: (int)HeldFor.TotalMilliseconds)]));

        var held = new[] { client.Actions.Workflows.Runs.List("acme", "faulty"), client.Actions.Workflows.Runs.List("acme", "faulty") };
        var other = await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "faulty");

        Assert.Equal(0, other.TotalCount);
        Assert.All(held, call => Assert.False(call.IsCompletedSuccessfully, "a held call was answered while another endpoint's call went through"));
        foreach (var call in held)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => call);
        }

        var stats = await Deadline.UntilAsync(() => Admin.GetStatsAsync(), s => s.ByEndpoint.GetValueOrDefault(runsList)?.Total >= 2, TimeSpan.FromSeconds(30), "both held calls recorded");
        Assert.Equal(new Dictionary<string, int> { ["499"] = 2 }, stats.ByEndpoint[runsList].ByStatus);
        Assert.Equal(new Dictionary<string, int> { ["200"] = 1 }, stats.ByEndpoint["GET /repos/{o}/{r}/actions/runners"].ByStatus);
    }
}
