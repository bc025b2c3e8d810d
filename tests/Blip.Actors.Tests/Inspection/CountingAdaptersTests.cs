using System.Net;
using Blip.Actors.Inspection;
using Blip.Actors.Runners;

namespace Blip.Actors.Tests.Inspection;

public sealed class CountingAdaptersTests
{
    [Fact]
    public async Task A_409_on_a_vm_update_counts_as_a_claim_conflict_and_every_request_by_verb_resource_status()
    {
        using var metrics = new BlipMetrics();
        using var client = new HttpClient(new KubernetesRequestCounter(metrics) { InnerHandler = new Answer(HttpStatusCode.Conflict) });

        using var put = await client.PutAsync("https://k8s.example/apis/kubevirt.io/v1/namespaces/blip/virtualmachines/blip-a", new StringContent("{}"));
        using var get = await client.GetAsync("https://k8s.example/api/v1/namespaces/blip/secrets?watch=true");

        Assert.Equal(1, metrics.ClaimConflicts.Value());
        Assert.Equal(1, metrics.KubernetesRequests.Value("PUT", "virtualmachines", "409"));
        Assert.Equal(1, metrics.KubernetesRequests.Value("watch", "secrets", "409"));
    }

    [Fact]
    public async Task A_failed_runner_start_counts_an_attempt_and_a_failure_by_reason()
    {
        using var metrics = new BlipMetrics();
        var shell = new CountingRunnerShell(new FailingShell(), metrics);

        await Assert.ThrowsAsync<RunnerShellException>(() => shell.StartRunnerAsync(new RunnerTarget("blip-a", "127.0.1.1", "ssh-ed25519 AAAA"), new JitConfig("x"), CancellationToken.None));

        Assert.Equal(1, metrics.SshAttempts.Value());
        Assert.Equal(1, metrics.SshFailures.Value("host_key_mismatch"));
    }

    private sealed class Answer(HttpStatusCode status) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status));
    }

    private sealed class FailingShell : IRunnerShell
    {
        public Task<RunnerStart> StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct) =>
            throw new RunnerShellException(RunnerShellFailure.HostKeyMismatch, "refused");
    }
}
