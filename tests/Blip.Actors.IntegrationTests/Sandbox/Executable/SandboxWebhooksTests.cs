using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Blip.Sandbox.GitHub;
using k8s;

namespace Blip.Actors.IntegrationTests.Sandbox.Executable;

/// <summary><c>dotnet run --project src/Blip.Sandbox -- --webhooks</c>: GitHub's deliveries reach the controller, and anyone can post their own.</summary>
public sealed class SandboxWebhooksTests
{
    [Fact]
    public async Task With_webhooks_the_emulator_delivers_to_the_controller_and_sandbox_json_names_the_url_and_secret()
    {
        // The duration only guards against a leaked process; disposing the sandbox stops it.
        await using var sandbox = SandboxProcess.Start("--webhooks", "--vms", "2", "--jobs", "0", "--duration", "900");
        await Deadline.UntilAsync(() => sandbox.Stdout.Contains("Stops by itself", StringComparison.Ordinal), TimeSpan.FromSeconds(180),
            $"sandbox up; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sandbox.StateDir, "sandbox.json")))!;
        var url = new Uri(manifest["webhookUrl"]!.GetValue<string>());
        var secret = manifest["webhookSecret"]!.GetValue<string>();
        Assert.Equal("127.0.0.1", url.Host);
        Assert.Equal("/webhooks/github", url.AbsolutePath);
        Assert.False(string.IsNullOrEmpty(secret));

        // The controller reads the same secret from Secret github-webhook.
        using (var kube = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(manifest["kubeconfig"]!.GetValue<string>())))
        {
            var stored = await kube.CoreV1.ReadNamespacedSecretAsync("github-webhook", "blip");
            Assert.Equal(secret, Encoding.UTF8.GetString(stored.Data["secret"]));
        }

        // A job queued on the emulator is delivered (signed) to the controller, accepted and run.
        using var gitHub = new GitHubSandboxClient(new Uri(manifest["githubUrl"]!.GetValue<string>()), manifest["githubAdminToken"]!.GetValue<string>());
        var queued = await gitHub.QueueJobAsync("demo-org/demo-repo", ["self-hosted", "blip"], durationSeconds: 1);
        var job = await Deadline.UntilAsync(() => gitHub.GetJobAsync(queued.JobId), j => j?.Status == "completed", TimeSpan.FromSeconds(180), $"job {queued.JobId} completed");
        Assert.StartsWith("blip-", job!.RunnerName, StringComparison.Ordinal);
        var deliveries = await gitHub.ListDeliveriesAsync();
        Assert.Contains(deliveries, d => d.Event == "workflow_job" && d.Status == 200);

        // Deliveries of one's own: signed with webhookSecret they are accepted, signed otherwise refused.
        using var http = new HttpClient();
        var ping = Encoding.UTF8.GetBytes("""{"zen":"Keep it logically awesome.","hook_id":1}""");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, url, ping, Sign(secret, ping))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(http, url, ping, Sign("not-the-secret", ping))).StatusCode);
    }

    private static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, Uri url, byte[] body, string signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", "ping");
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", signature);
        return http.SendAsync(request);
    }
}
