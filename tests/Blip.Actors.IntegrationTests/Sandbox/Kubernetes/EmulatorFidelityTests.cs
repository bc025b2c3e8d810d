using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Sandbox.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;

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

    [Fact]
    public async Task A_vm_spec_change_bumps_generation_and_answers_200()
    {
        var vm = await CreateAsync("virtualmachines", "gen");
        Assert.Equal(1, vm["metadata"]!["generation"]!.GetValue<long>());
        vm["spec"] = new JsonObject { ["running"] = false };

        var replaced = ToNode(await _admin.CustomObjects.ReplaceNamespacedCustomObjectAsync(Body(vm), Group, Version, Ns, "virtualmachines", "gen"));
        Assert.Equal(2, replaced["metadata"]!["generation"]!.GetValue<long>());

        var patched = ToNode(await _admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"spec":{"running":true}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, "virtualmachines", "gen"));
        Assert.Equal(3, patched["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_update_of_a_custom_resource_without_resourceVersion_is_422()
    {
        var vm = await CreateAsync("virtualmachines", "norv");
        vm["metadata"]!.AsObject().Remove("resourceVersion");
        vm["metadata"]!["annotations"] = new JsonObject { ["a"] = "b" };

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CustomObjects.ReplaceNamespacedCustomObjectAsync(Body(vm), Group, Version, Ns, "virtualmachines", "norv"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
        Assert.Contains("metadata.resourceVersion", e.Response.Content);
    }

    [Fact]
    public async Task Writes_to_the_main_resource_leave_a_vms_status_alone()
    {
        await CreateAsync("virtualmachines", "st");
        _api.Store.Mutate(KubeResource.VirtualMachines, Ns, "st", o => o["status"] = new JsonObject { ["printableStatus"] = "Running" }, "kubevirt");
        var vm = ToNode(await _admin.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, Ns, "virtualmachines", "st"));
        vm["status"] = new JsonObject { ["printableStatus"] = "Hacked" };
        vm["metadata"]!["annotations"] = new JsonObject { ["a"] = "b" };

        var replaced = ToNode(await _admin.CustomObjects.ReplaceNamespacedCustomObjectAsync(Body(vm), Group, Version, Ns, "virtualmachines", "st"));
        var patched = ToNode(await _admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"status":{"printableStatus":"Hacked"},"metadata":{"annotations":{"c":"d"}}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, "virtualmachines", "st"));

        Assert.Equal("Running", replaced["status"]!["printableStatus"]!.GetValue<string>());
        Assert.Equal("b", replaced["metadata"]!["annotations"]!["a"]!.GetValue<string>());
        Assert.Equal("Running", patched["status"]!["printableStatus"]!.GetValue<string>());
        Assert.Equal("d", patched["metadata"]!["annotations"]!["c"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_json_patch_with_a_stale_resourceVersion_is_409_and_a_failed_test_op_is_422()
    {
        var vm = await CreateAsync("virtualmachines", "jp");
        var stale = vm["metadata"]!["resourceVersion"]!.GetValue<string>();
        await _admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"metadata":{"annotations":{"first":"writer"}}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, "virtualmachines", "jp");

        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch($$"""[{"op":"replace","path":"/metadata/resourceVersion","value":"{{stale}}"},{"op":"add","path":"/metadata/annotations/second","value":"writer"}]""", V1Patch.PatchType.JsonPatch),
            Group, Version, Ns, "virtualmachines", "jp"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);

        var failedTest = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""[{"op":"test","path":"/metadata/uid","value":"not-this-vm"},{"op":"add","path":"/metadata/annotations/second","value":"writer"}]""", V1Patch.PatchType.JsonPatch),
            Group, Version, Ns, "virtualmachines", "jp"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, failedTest.Response.StatusCode);
        Assert.Null(_api.Store.Get(KubeResource.VirtualMachines, Ns, "jp")["metadata"]!["annotations"]!["second"]);
    }

    [Fact]
    public async Task A_delete_with_a_finalizer_marks_the_object_and_removing_the_finalizer_deletes_it()
    {
        var vm = await CreateAsync("virtualmachines", "fin");
        var uid = vm["metadata"]!["uid"]!.GetValue<string>();
        await _admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"metadata":{"finalizers":["kubevirt.io/virtualMachineControllerFinalize"]}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, "virtualmachines", "fin");

        var wrongUid = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CustomObjects.DeleteNamespacedCustomObjectAsync(
            Group, Version, Ns, "virtualmachines", "fin", body: new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = "another-vm" } }));
        Assert.Equal(HttpStatusCode.Conflict, wrongUid.Response.StatusCode);

        await _admin.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, Ns, "virtualmachines", "fin", body: new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = uid } });
        var terminating = ToNode(await _admin.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, Ns, "virtualmachines", "fin"));
        Assert.NotNull(terminating["metadata"]!["deletionTimestamp"]);

        await _admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""[{"op":"remove","path":"/metadata/finalizers/0"}]""", V1Patch.PatchType.JsonPatch), Group, Version, Ns, "virtualmachines", "fin");
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, Ns, "virtualmachines", "fin"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
        var kinds = _api.Store.Audit.Where(a => a.Name == "fin").Select(a => a.Verb).ToList();
        Assert.Equal(["create", "patch", "delete", "patch"], kinds);
    }

    [Fact]
    public async Task Lists_page_with_limit_and_continue()
    {
        foreach (var name in new[] { "p1", "p2", "p3", "p4", "p5" })
        {
            await _admin.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name } }, Ns);
        }

        var first = await _admin.CoreV1.ListNamespacedConfigMapAsync(Ns, limit: 2);
        Assert.Equal(["p1", "p2"], first.Items.Select(i => i.Metadata.Name));
        Assert.Equal(3, first.Metadata.RemainingItemCount);
        var second = await _admin.CoreV1.ListNamespacedConfigMapAsync(Ns, limit: 2, continueParameter: first.Metadata.ContinueProperty);
        Assert.Equal(["p3", "p4"], second.Items.Select(i => i.Metadata.Name));
        var last = await _admin.CoreV1.ListNamespacedConfigMapAsync(Ns, limit: 2, continueParameter: second.Metadata.ContinueProperty);
        Assert.Equal(["p5"], last.Items.Select(i => i.Metadata.Name));
        Assert.Null(last.Metadata.ContinueProperty);
        Assert.Equal(first.Metadata.ResourceVersion, last.Metadata.ResourceVersion);

        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.ListNamespacedConfigMapAsync(Ns, continueParameter: "not-a-token"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Response.StatusCode);
    }

    private static JsonElement Body(JsonObject o) => JsonDocument.Parse(o.ToJsonString()).RootElement;

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
