using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Actors.IntegrationTests.Infrastructure;
using Blip.Sandbox.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Blip.Actors.IntegrationTests.Sandbox.Kubernetes;

/// <summary>The Kubernetes API emulator driven by the production client, KubernetesClient.</summary>
public sealed class KubeApiEmulatorTests : IAsyncLifetime
{
    private const string Ns = "blip";
    private KubeApiEmulator _api = null!;
    private k8s.Kubernetes _admin = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { WatchHistory = 50, BookmarkInterval = TimeSpan.FromMilliseconds(200) });
        _admin = _api.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _api.DisposeAsync();
    }

    private static V1ConfigMap ConfigMap(string name, IDictionary<string, string>? labels = null, string value = "v") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Data = new Dictionary<string, string> { ["key"] = value },
    };

    [Fact]
    public async Task Configmaps_are_created_read_and_listed_by_label_and_field_selectors()
    {
        var a = await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", new Dictionary<string, string> { ["app"] = "x", ["tier"] = "1" }), Ns);
        await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", new Dictionary<string, string> { ["app"] = "y" }), Ns);
        await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), Ns);

        Assert.False(string.IsNullOrEmpty(a.Metadata.Uid));
        Assert.NotNull(a.Metadata.CreationTimestamp);
        var read = await _admin.CoreV1.ReadNamespacedConfigMapAsync("a", Ns);
        Assert.Equal("v", read.Data["key"]);
        Assert.Equal(a.Metadata.ResourceVersion, read.Metadata.ResourceVersion);

        async Task<string[]> Names(string? labels = null, string? fields = null) =>
            (await _admin.CoreV1.ListNamespacedConfigMapAsync(Ns, labelSelector: labels, fieldSelector: fields)).Items.Select(i => i.Metadata.Name).ToArray();

        Assert.Equal(["a"], await Names("app=x"));
        Assert.Equal(["a"], await Names("app==x,tier"));
        Assert.Equal(["a", "b"], await Names("app in (x, y)"));
        Assert.Equal(["b", "c"], await Names("app!=x"));
        Assert.Equal(["b", "c"], await Names("app notin (x)"));
        Assert.Equal(["a", "b"], await Names("app"));
        Assert.Equal(["c"], await Names("!app"));
        Assert.Equal(["b"], await Names(fields: "metadata.name=b"));
        Assert.Equal(["a", "b", "c"], await Names());

        var duplicate = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), Ns));
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Response.StatusCode);
        Assert.Equal("AlreadyExists", Status(duplicate)["reason"]!.GetValue<string>());

        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.ReadNamespacedConfigMapAsync("nope", Ns));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        Assert.Equal("configmaps \"nope\" not found", Status(missing)["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_resumed_from_a_resourceVersion_sees_exactly_the_later_events()
    {
        var first = await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("w1"), Ns);
        var updated = first;
        updated.Data["key"] = "changed";
        await _admin.CoreV1.ReplaceNamespacedConfigMapAsync(updated, "w1", Ns);
        await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("w2"), Ns);
        await _admin.CoreV1.DeleteNamespacedConfigMapAsync("w1", Ns);
        await _admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "not-seen" } }, Ns);

        var seen = new List<(WatchEventType, string, string)>();
        using var timeout = new CancellationTokenSource(KubeWorld.Deadline);
        await foreach (var (type, cm) in _admin.CoreV1.WatchListNamespacedConfigMapAsync(Ns, allowWatchBookmarks: true,
                           resourceVersion: first.Metadata.ResourceVersion, timeoutSeconds: 10, cancellationToken: timeout.Token))
        {
            if (type == WatchEventType.Bookmark)
            {
                continue;
            }

            seen.Add((type, cm.Metadata.Name, cm.Metadata.ResourceVersion));
            if (seen.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([WatchEventType.Modified, WatchEventType.Added, WatchEventType.Deleted], seen.Select(s => s.Item1));
        Assert.Equal(["w1", "w2", "w1"], seen.Select(s => s.Item2));
        var versions = seen.Select(s => long.Parse(s.Item3)).ToList();
        Assert.True(versions.SequenceEqual(versions.Order()) && versions[0] > long.Parse(first.Metadata.ResourceVersion), string.Join(",", versions));
    }

    [Fact]
    public async Task Watch_sees_changes_made_after_it_started_and_ends_at_the_server_timeout()
    {
        var list = await _admin.CoreV1.ListNamespacedConfigMapAsync(Ns);
        var seen = new List<(WatchEventType Type, string Name)>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, cm) in _admin.CoreV1.WatchListNamespacedConfigMapAsync(Ns, labelSelector: "live=yes",
                               resourceVersion: list.Metadata.ResourceVersion, timeoutSeconds: 2))
            {
                lock (seen)
                {
                    seen.Add((type, cm.Metadata.Name));
                }
            }
        });
        await Deadline.EventuallyAsync(() => _api.OpenWatches == 1, KubeWorld.Deadline, "the watch to open");
        await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("ignored"), Ns);
        await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("live", new Dictionary<string, string> { ["live"] = "yes" }), Ns);
        // Leaving the selector is a DELETED for this watcher.
        await _admin.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"live":"no"}}}""", V1Patch.PatchType.MergePatch), "live", Ns);

        await watching.WaitAsync(KubeWorld.Deadline);
        Assert.Equal([(WatchEventType.Added, "live"), (WatchEventType.Deleted, "live")], seen);
        Assert.Equal(0, _api.OpenWatches);
    }

    [Fact]
    public async Task Watch_with_bookmarks_gets_progress_notifications_at_the_latest_resourceVersion()
    {
        var created = await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("bm"), Ns);
        await _admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "later" } }, Ns);
        var latest = (await _admin.CoreV1.ListNamespacedSecretAsync(Ns)).Metadata.ResourceVersion;

        var seen = new List<(WatchEventType Type, string Rv)>();
        using var timeout = new CancellationTokenSource(KubeWorld.Deadline);
        await foreach (var (type, cm) in _admin.CoreV1.WatchListNamespacedConfigMapAsync(Ns, allowWatchBookmarks: true,
                           resourceVersion: "0", timeoutSeconds: 10, cancellationToken: timeout.Token))
        {
            seen.Add((type, cm.Metadata.ResourceVersion));
            if (type == WatchEventType.Bookmark)
            {
                break;
            }
        }

        Assert.Equal([(WatchEventType.Added, created.Metadata.ResourceVersion), (WatchEventType.Bookmark, latest)], seen);
    }

    [Fact]
    public async Task The_namespace_exists_and_objects_in_unknown_namespaces_are_404()
    {
        Assert.Equal("Active", (await _admin.CoreV1.ReadNamespaceAsync(Ns)).Status.Phase);
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("x"), "nowhere"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        Assert.Equal("namespaces \"nowhere\" not found", Status(missing)["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_from_a_version_older_than_the_kept_history_is_410_Gone()
    {
        var first = await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("old"), Ns);
        for (var i = 0; i < 60; i++)
        {
            await _admin.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"n\":\"" + i + "\"}}", V1Patch.PatchType.MergePatch), "old", Ns);
        }

        var errors = new List<Exception>();
        var events = 0;
        await foreach (var _ in _admin.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: first.Metadata.ResourceVersion,
                           timeoutSeconds: 5, onError: errors.Add))
        {
            events++;
        }

        Assert.Equal(0, events);
        var gone = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, gone.Status.Code);
        Assert.Equal("Expired", gone.Status.Reason);
    }

    [Fact]
    public async Task Replace_with_a_stale_resourceVersion_is_409_Conflict_and_without_one_is_unconditional()
    {
        var created = await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cas"), Ns);
        var stale = await _admin.CoreV1.ReadNamespacedConfigMapAsync("cas", Ns);
        created.Data["key"] = "first writer";
        await _admin.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cas", Ns);

        stale.Data["key"] = "second writer";
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.ReplaceNamespacedConfigMapAsync(stale, "cas", Ns));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Equal("Conflict", Status(conflict)["reason"]!.GetValue<string>());
        Assert.Equal("first writer", (await _admin.CoreV1.ReadNamespacedConfigMapAsync("cas", Ns)).Data["key"]);

        stale.Metadata.ResourceVersion = null;
        await _admin.CoreV1.ReplaceNamespacedConfigMapAsync(stale, "cas", Ns);
        Assert.Equal("second writer", (await _admin.CoreV1.ReadNamespacedConfigMapAsync("cas", Ns)).Data["key"]);
    }

    [Fact]
    public async Task Controller_token_is_held_to_the_Role_in_k8s_rbac_yaml()
    {
        await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("github-actions"), Ns);
        using var controller = _api.CreateClient(_api.ControllerToken);

        Assert.Equal("v", (await controller.CoreV1.ReadNamespacedConfigMapAsync("github-actions", Ns)).Data["key"]);
        // The Role grants the ConfigMap by resourceNames: a list pinned to its name is allowed (as the apiserver's
        // request-info resolver does it), a list of the whole namespace is not, nor any other Secret.
        await _admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "someone-elses" } }, Ns);
        Assert.Single((await controller.CoreV1.ListNamespacedConfigMapAsync(Ns, fieldSelector: "metadata.name=github-actions")).Items);
        var all = await Assert.ThrowsAsync<HttpOperationException>(() => controller.CoreV1.ListNamespacedConfigMapAsync(Ns));
        Assert.Equal(HttpStatusCode.Forbidden, all.Response.StatusCode);
        var other = await Assert.ThrowsAsync<HttpOperationException>(() => controller.CoreV1.ListNamespacedSecretAsync(Ns, fieldSelector: "metadata.name=someone-elses"));
        Assert.Equal(HttpStatusCode.Forbidden, other.Response.StatusCode);
        await controller.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "claim.1" },
            InvolvedObject = new V1ObjectReference { Kind = "VirtualMachine", Name = "blip-x", NamespaceProperty = Ns },
            Reason = "Claimed",
        }, Ns);

        var delete = await Assert.ThrowsAsync<HttpOperationException>(() => controller.CoreV1.DeleteNamespacedConfigMapAsync("github-actions", Ns));
        Assert.Equal(HttpStatusCode.Forbidden, delete.Response.StatusCode);
        Assert.Equal(
            "configmaps \"github-actions\" is forbidden: User \"system:serviceaccount:blip:blip-controller\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"blip\"",
            Status(delete)["message"]!.GetValue<string>());
        var write = await Assert.ThrowsAsync<HttpOperationException>(() => controller.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, Ns));
        Assert.Equal(HttpStatusCode.Forbidden, write.Response.StatusCode);
        var vmi = await Assert.ThrowsAsync<HttpOperationException>(() =>
            controller.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", Ns, "virtualmachineinstances", "blip-x"));
        Assert.Equal(HttpStatusCode.Forbidden, vmi.Response.StatusCode);
        Assert.NotNull(await _admin.CoreV1.ReadNamespacedConfigMapAsync("github-actions", Ns));
    }

    [Fact]
    public async Task Requests_without_a_valid_token_are_401_Unauthorized()
    {
        using var anonymous = _api.CreateClient(token: "");
        var none = await Assert.ThrowsAsync<HttpOperationException>(() => anonymous.CoreV1.ListNamespacedConfigMapAsync(Ns));
        Assert.Equal(HttpStatusCode.Unauthorized, none.Response.StatusCode);

        using var wrong = _api.CreateClient(token: "not-a-token");
        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => wrong.CoreV1.ListNamespacedConfigMapAsync(Ns));
        Assert.Equal(HttpStatusCode.Unauthorized, bad.Response.StatusCode);
        Assert.Equal("Unauthorized", Status(bad)["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patches_cannot_change_name_namespace_uid_or_creationTimestamp()
    {
        var created = await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("id"), Ns);
        var merge = """{"metadata":{"name":"other","namespace":"elsewhere","uid":"u-1","creationTimestamp":null,"annotations":{"a":"1"}},"data":{"key":"m"}}""";
        var afterMerge = await _admin.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(merge, V1Patch.PatchType.MergePatch), "id", Ns);
        var strategic = """{"metadata":{"creationTimestamp":"2001-01-01T00:00:00Z"},"data":{"key":null,"other":"s"}}""";
        await _admin.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(strategic, V1Patch.PatchType.StrategicMergePatch), "id", Ns);
        var json = """[{"op":"replace","path":"/metadata/uid","value":"u-2"},{"op":"test","path":"/data/other","value":"s"},{"op":"add","path":"/data/json","value":"j"}]""";
        var afterJson = await _admin.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(json, V1Patch.PatchType.JsonPatch), "id", Ns);

        foreach (var cm in new[] { afterMerge, afterJson, await _admin.CoreV1.ReadNamespacedConfigMapAsync("id", Ns) })
        {
            Assert.Equal("id", cm.Metadata.Name);
            Assert.Equal(Ns, cm.Metadata.NamespaceProperty);
            Assert.Equal(created.Metadata.Uid, cm.Metadata.Uid);
            Assert.Equal(created.Metadata.CreationTimestamp, cm.Metadata.CreationTimestamp);
        }
        Assert.Equal("1", afterJson.Metadata.Annotations["a"]);
        Assert.Equal(new Dictionary<string, string> { ["other"] = "s", ["json"] = "j" }, afterJson.Data);

        var failedTest = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""[{"op":"test","path":"/data/other","value":"nope"}]""", V1Patch.PatchType.JsonPatch), "id", Ns));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, failedTest.Response.StatusCode);
    }

    [Fact]
    public async Task KubeVirt_virtual_machines_are_custom_objects_with_optimistic_concurrency()
    {
        const string group = "kubevirt.io", version = "v1", plural = "virtualmachines";
        var vm = new JsonObject
        {
            ["apiVersion"] = "kubevirt.io/v1",
            ["kind"] = "VirtualMachine",
            ["metadata"] = new JsonObject { ["name"] = "blip-test1", ["labels"] = new JsonObject { ["blip.io/pool"] = "blip" } },
            ["spec"] = new JsonObject { ["runStrategy"] = "Always" },
        };
        await _admin.CustomObjects.CreateNamespacedCustomObjectAsync(JsonSerializer.SerializeToElement(vm), group, version, Ns, plural);

        var list = ToJson(await _admin.CustomObjects.ListNamespacedCustomObjectAsync(group, version, Ns, plural, labelSelector: "blip.io/pool=blip"));
        var listed = Assert.Single(list["items"]!.AsArray())!.AsObject();
        Assert.Equal("VirtualMachineList", list["kind"]!.GetValue<string>());

        var claimed = listed.DeepClone().AsObject();
        claimed["metadata"]!["annotations"] = new JsonObject { ["blip.io/session-id"] = "actions-1" };
        var replaced = ToJson(await _admin.CustomObjects.ReplaceNamespacedCustomObjectAsync(JsonSerializer.SerializeToElement(claimed), group, version, Ns, plural, "blip-test1"));
        Assert.Equal("actions-1", replaced["metadata"]!["annotations"]!["blip.io/session-id"]!.GetValue<string>());

        var racer = listed.DeepClone().AsObject();
        racer["metadata"]!["annotations"] = new JsonObject { ["blip.io/session-id"] = "actions-2" };
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _admin.CustomObjects.ReplaceNamespacedCustomObjectAsync(JsonSerializer.SerializeToElement(racer), group, version, Ns, plural, "blip-test1"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);

        var current = ToJson(await _admin.CustomObjects.GetNamespacedCustomObjectAsync(group, version, Ns, plural, "blip-test1"));
        Assert.Equal("actions-1", current["metadata"]!["annotations"]!["blip.io/session-id"]!.GetValue<string>());
        await _admin.CustomObjects.DeleteNamespacedCustomObjectAsync(group, version, Ns, plural, "blip-test1");
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CustomObjects.GetNamespacedCustomObjectAsync(group, version, Ns, plural, "blip-test1"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task Audit_records_every_write_without_secret_data_and_stats_count_requests()
    {
        await _admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "github-pat", Annotations = new Dictionary<string, string> { [KubeStore.LastAppliedAnnotation] = "{\"data\":{\"token\":\"c2VjcmV0\"}}" } },
            StringData = new Dictionary<string, string> { ["token"] = "ghp_supersecret" },
        }, Ns);
        Assert.Equal("ghp_supersecret", Encoding.UTF8.GetString((await _admin.CoreV1.ReadNamespacedSecretAsync("github-pat", Ns)).Data["token"]));
        using var controller = _api.CreateClient(_api.ControllerToken);
        await controller.CoreV1.ReadNamespacedSecretAsync("github-pat", Ns);
        await controller.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = "claim." },
            InvolvedObject = new V1ObjectReference { Kind = "VirtualMachine", Name = "blip-x", NamespaceProperty = Ns },
        }, Ns);

        using var http = AdminHttp();
        var audit = JsonNode.Parse(await http.GetStringAsync("_sandbox/audit"))!.AsArray();
        var write = audit.Select(a => a!.AsObject()).Single(a => a["name"]!.GetValue<string>() == "github-pat");
        Assert.Equal("create", write["verb"]!.GetValue<string>());
        Assert.Equal("secrets", write["resource"]!.GetValue<string>());
        Assert.Equal("admin", write["user"]!.GetValue<string>());
        var byController = audit.Select(a => a!.AsObject()).Single(a => a["resource"]!.GetValue<string>() == "events");
        Assert.Equal("controller", byController["user"]!.GetValue<string>());
        Assert.StartsWith("claim.", byController["name"]!.GetValue<string>());
        Assert.DoesNotContain("c2VjcmV0", audit.ToJsonString());
        Assert.DoesNotContain("supersecret", audit.ToJsonString());

        var stats = JsonNode.Parse(await http.GetStringAsync("_sandbox/stats"))!.AsObject();
        Assert.True(stats["total"]!.GetValue<long>() >= 3);
        Assert.Equal(2, stats["byVerb"]!["get"]!.GetValue<long>());
        Assert.Equal(3, stats["byResource"]!["secrets"]!.GetValue<long>());
        Assert.Equal(0, stats["watches"]!.GetValue<int>());

        var forbidden = await Assert.ThrowsAsync<HttpRequestException>(() => ControllerHttp().GetStringAsync("_sandbox/audit"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task Injected_faults_fail_requests_with_500_and_drop_watches()
    {
        _api.Faults.Errors = [new KubeFaults.ErrorRule("list", "configmaps", 1.0)];
        var failed = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.ListNamespacedConfigMapAsync(Ns));
        Assert.Equal(HttpStatusCode.InternalServerError, failed.Response.StatusCode);
        Assert.NotNull(await _admin.CoreV1.ListNamespacedSecretAsync(Ns));
        _api.Faults.Clear();

        // KubernetesClient fails a watch whose stream ends before its first line, so give it one:
        // a watch without resourceVersion starts with an ADDED per existing object.
        await _admin.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("present"), Ns);
        var added = 0;
        var watching = Task.Run(async () =>
        {
            await foreach (var _ in _admin.CoreV1.WatchListNamespacedConfigMapAsync(Ns, timeoutSeconds: 60))
            {
                added++;
            }
        });
        await Deadline.EventuallyAsync(() => _api.OpenWatches == 1, KubeWorld.Deadline, "the watch to open");
        using var http = AdminHttp();
        using var put = await http.PutAsync("_sandbox/faults", new StringContent("""{"dropWatches":true}""", Encoding.UTF8, "application/json"));
        put.EnsureSuccessStatusCode();
        await watching.WaitAsync(KubeWorld.Deadline);
        Assert.Equal(1, added);
        Assert.Equal(0, _api.OpenWatches);
    }

    private HttpClient AdminHttp() => Http(_api.AdminToken);

    private HttpClient ControllerHttp() => Http(_api.ControllerToken);

    private HttpClient Http(string token)
    {
        var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(_api.CaCertificatePem);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(cert!);
            },
        };
        var http = new HttpClient(handler) { BaseAddress = _api.Url };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    [Fact]
    public async Task A_protobuf_body_is_decoded_for_a_built_in_type_and_refused_with_415_for_a_custom_resource()
    {
        // runtime.Unknown{typeMeta{apiVersion v1, kind ConfigMap}, raw ConfigMap{metadata{name pb}, data{k: v}}}, as kubectl sends it.
        byte[] Field(int number, params byte[][] parts)
        {
            var body = parts.SelectMany(p => p).ToArray();
            return [(byte)((number << 3) | 2), (byte)body.Length, .. body];
        }

        byte[] Text(int number, string text) => Field(number, Encoding.UTF8.GetBytes(text));
        var configMap = Field(1, Text(1, "pb")).Concat(Field(2, Text(1, "k"), Text(2, "v"))).ToArray();
        byte[] envelope = [.. "k8s\0"u8, .. Field(1, Text(1, "v1"), Text(2, "ConfigMap")), .. Field(2, configMap)];
        using var http = _api.CreateHttpClient();

        using var created = await http.PostAsync($"api/v1/namespaces/{Ns}/configmaps", Protobuf(envelope));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("v", (await _admin.CoreV1.ReadNamespacedConfigMapAsync("pb", Ns)).Data["k"]);

        using var refused = await http.PostAsync($"apis/kubevirt.io/v1/namespaces/{Ns}/virtualmachines", Protobuf(envelope));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        Assert.Equal("UnsupportedMediaType", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["reason"]!.GetValue<string>());
    }

    private static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.kubernetes.protobuf");
        return content;
    }

    private static JsonObject ToJson(object o) => JsonNode.Parse(JsonSerializer.Serialize(o))!.AsObject();

    private static JsonObject Status(HttpOperationException e) => JsonNode.Parse(e.Response.Content)!.AsObject();
}
