using System.Text;
using Blip.Sandbox.Kubernetes;
using k8s;
using k8s.Autorest;

namespace Blip.Actors.IntegrationTests.Sandbox.Kubernetes;

/// <summary>The <c>log</c> subresource of a controller pod, read through KubernetesClient: the kubelet's parameters.</summary>
public sealed class PodLogTests : IAsyncLifetime
{
    private const string Ns = "blip";
    private KubeApiEmulator _api = null!;
    private k8s.Kubernetes _admin = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions());
        _admin = _api.CreateClient();
        _dir = Directory.CreateTempSubdirectory("blip-podlog-").FullName;
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Since_seconds_keeps_the_lines_stamped_within_the_window_and_their_continuations()
    {
        var now = DateTimeOffset.UtcNow;
        var log = await WriteLogAsync(
            $"{Stamp(now.AddMinutes(-10))} info: old line",
            $"{Stamp(now.AddSeconds(-5))} fail: recent failure",
            "   at Blip.Some.Frame()",
            $"{Stamp(now.AddSeconds(-1))} info: newest line");
        _api.ControllerPods.Started(Ns, 0, 4242, log, 0);

        var lines = Lines(await ReadAsync(sinceSeconds: 60));

        Assert.Equal(3, lines.Length);
        Assert.EndsWith(" fail: recent failure", lines[0]);
        Assert.Equal("   at Blip.Some.Frame()", lines[1]);
        Assert.EndsWith(" info: newest line", lines[2]);
    }

    [Fact]
    public async Task Follow_streams_lines_written_later_and_ends_when_the_process_exits()
    {
        var log = await WriteLogAsync($"{Stamp(DateTimeOffset.UtcNow)} info: first");
        _api.ControllerPods.Started(Ns, 1, 4343, log, 0);

        await using var stream = await _admin.CoreV1.ReadNamespacedPodLogAsync(ControllerPods.NameOf(1), Ns, follow: true);
        using var reader = new StreamReader(stream);
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.EndsWith("info: first", await reader.ReadLineAsync(hangGuard.Token));

        await File.AppendAllTextAsync(log, $"{Stamp(DateTimeOffset.UtcNow)} info: second\n", hangGuard.Token);
        Assert.EndsWith("info: second", await reader.ReadLineAsync(hangGuard.Token));

        _api.ControllerPods.Exited(Ns, 1, 4343, exitCode: 0);
        Assert.Null(await reader.ReadLineAsync(hangGuard.Token));
        var pod = await _admin.CoreV1.ReadNamespacedPodAsync(ControllerPods.NameOf(1), Ns);
        Assert.Equal("Succeeded", pod.Status.Phase);
        Assert.Equal("Completed", pod.Status.ContainerStatuses[0].State.Terminated.Reason);
    }

    [Fact]
    public async Task An_unknown_container_is_a_bad_request_naming_it()
    {
        _api.ControllerPods.Started(Ns, 2, 4444, await WriteLogAsync("line"), 0);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _admin.CoreV1.ReadNamespacedPodLogAsync(ControllerPods.NameOf(2), Ns, container: "sidecar"));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.Response.StatusCode);
        Assert.Contains("container sidecar is not valid for pod blip-controller-2", e.Response.Content);
    }

    [Fact]
    public async Task The_controllers_token_may_not_read_pod_logs_as_its_role_grants_no_pods()
    {
        _api.ControllerPods.Started(Ns, 3, 4545, await WriteLogAsync("line"), 0);
        using var controller = _api.CreateClient(_api.ControllerToken);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => controller.CoreV1.ReadNamespacedPodLogAsync(ControllerPods.NameOf(3), Ns));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.Response.StatusCode);
        Assert.Equal("pods \"blip-controller-3\" is forbidden: User \"system:serviceaccount:blip:blip-controller\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"blip\"",
            System.Text.Json.Nodes.JsonNode.Parse(e.Response.Content)!["message"]!.GetValue<string>());
    }

    private async Task<string> ReadAsync(int sinceSeconds)
    {
        await using var stream = await _admin.CoreV1.ReadNamespacedPodLogAsync(ControllerPods.NameOf(0), Ns, sinceSeconds: sinceSeconds);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private async Task<string> WriteLogAsync(params string[] lines)
    {
        var path = Path.Combine(_dir, $"controller-{Guid.NewGuid():N}.log");
        await File.WriteAllTextAsync(path, string.Join('\n', lines) + "\n");
        return path;
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
