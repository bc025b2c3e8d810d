using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Sandbox.Kubernetes;
using k8s;
using k8s.Autorest;

namespace Blip.Actors.IntegrationTests.Sandbox.Kubernetes;

/// <summary>The emulator behaves as a real API server where a kinder one would hide controller bugs (issue 13),
/// driven through KubernetesClient.</summary>
public sealed class EmulatorFidelityTests : IAsyncLifetime
{
    private const string Ns = "blip";
    private const string Group = "kubevirt.io";
    private const string Version = "v1";
    private KubeApiEmulator _api = null!;
    private k8s.Kubernetes _admin = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { WatchHistory = 1000, BookmarkInterval = TimeSpan.FromMilliseconds(200) });
        _admin = _api.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Expiring_one_kinds_watches_gives_410_to_that_kind_alone()
    {
        await CreateAsync("virtualmachines", "blip-0");
        await CreateAsync("virtualmachineinstances", "blip-0");
        var vmsAt = await ListVersionAsync("virtualmachines");
        var vmisAt = await ListVersionAsync("virtualmachineinstances");

        using var http = _api.CreateHttpClient();
        using var reply = await http.PostAsync("_sandbox/expire-watches", new StringContent("""{"resource":"virtualmachineinstances"}""", Encoding.UTF8, "application/json"));
        reply.EnsureSuccessStatusCode();
        await CreateAsync("virtualmachines", "blip-1");

        var (vmiEvents, vmiErrors) = await WatchAsync("virtualmachineinstances", vmisAt);
        Assert.Empty(vmiEvents);
        Assert.Equal(410, Assert.IsType<KubernetesException>(Assert.Single(vmiErrors)).Status.Code);

        var (vmEvents, vmErrors) = await WatchAsync("virtualmachines", vmsAt, untilName: "blip-1");
        Assert.Empty(vmErrors);
        Assert.Equal(["blip-1"], vmEvents);

        // A fresh list gives a version that resumes fine.
        var (fresh, freshErrors) = await WatchAsync("virtualmachineinstances", await ListVersionAsync("virtualmachineinstances"), timeoutSeconds: 1);
        Assert.Empty(fresh);
        Assert.Empty(freshErrors);

        using var unknown = await http.PostAsync("_sandbox/expire-watches", new StringContent("""{"resource":"nosuchthings"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("nosuchthings", await unknown.Content.ReadAsStringAsync());
    }

    private async Task<JsonObject> CreateAsync(string plural, string name, JsonObject? spec = null)
    {
        var body = new JsonObject
        {
            ["apiVersion"] = "kubevirt.io/v1",
            ["kind"] = plural == "virtualmachines" ? "VirtualMachine" : "VirtualMachineInstance",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["blip.io/pool"] = "blip" } },
            ["spec"] = spec ?? new JsonObject { ["running"] = true },
        };
        var created = await _admin.CustomObjects.CreateNamespacedCustomObjectAsync(JsonDocument.Parse(body.ToJsonString()).RootElement, Group, Version, Ns, plural);
        return ToNode(created);
    }

    private async Task<string> ListVersionAsync(string plural) =>
        ToNode(await _admin.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, Ns, plural))["metadata"]!["resourceVersion"]!.GetValue<string>();

    private async Task<(List<string> Names, List<Exception> Errors)> WatchAsync(string plural, string resourceVersion, string? untilName = null, int timeoutSeconds = 5)
    {
        var names = new List<string>();
        var errors = new List<Exception>();
        await foreach (var (type, item) in _admin.CustomObjects.WatchListNamespacedCustomObjectAsync(
                           Group, Version, Ns, plural, allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, onError: errors.Add))
        {
            if (type is WatchEventType.Bookmark)
            {
                continue;
            }

            var name = ToNode(item)["metadata"]!["name"]!.GetValue<string>();
            names.Add(name);
            if (name == untilName)
            {
                break;
            }
        }

        return (names, errors);
    }

    private static JsonObject ToNode(object o) =>
        JsonNode.Parse(o is JsonElement e ? e.GetRawText() : KubernetesJson.Serialize(o))!.AsObject();
}
