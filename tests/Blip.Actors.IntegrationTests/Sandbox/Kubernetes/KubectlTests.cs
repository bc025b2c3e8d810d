using System.Text;
using Blip.Actors.IntegrationTests.Infrastructure;
using Blip.Sandbox.Kubernetes;
using k8s;

namespace Blip.Actors.IntegrationTests.Sandbox.Kubernetes;

/// <summary>The machine's kubectl against the emulator, with the spec's commands verbatim.</summary>
public sealed class KubectlTests(KubeWorld world) : IClassFixture<KubeWorld>
{
    private const string SecretCommand =
        """kubectl create secret generic github-pat -n blip --from-literal=token="$GITHUB_PAT" --dry-run=client -o yaml | kubectl apply -f -""";

    private const string ConfigMapCommand =
        """kubectl create configmap github-actions -n blip --from-literal=runner-labels="self-hosted,blip" --from-literal=repos="my-org/my-repo" --dry-run=client -o yaml | kubectl apply -f -""";

    [Fact]
    public async Task The_specs_secret_command_creates_and_then_updates_the_pat()
    {
        var created = await Kubectl(SecretCommand, new Dictionary<string, string> { ["GITHUB_PAT"] = "ghp_first" });
        Assert.Contains("secret/github-pat created", created);
        Assert.Equal("ghp_first", await Pat());

        var updated = await Kubectl(SecretCommand, new Dictionary<string, string> { ["GITHUB_PAT"] = "ghp_second" });
        Assert.Contains("secret/github-pat configured", updated);
        Assert.Equal("ghp_second", await Pat());

        var yaml = await Kubectl("kubectl get secret github-pat -n blip -o yaml");
        Assert.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes("ghp_second")), yaml);
    }

    [Fact]
    public async Task The_specs_configmap_command_creates_and_then_updates_the_actions_config()
    {
        Assert.Contains("configmap/github-actions created", await Kubectl(ConfigMapCommand));
        var cm = await world.Admin.CoreV1.ReadNamespacedConfigMapAsync("github-actions", "blip");
        Assert.Equal("self-hosted,blip", cm.Data["runner-labels"]);
        Assert.Equal("my-org/my-repo", cm.Data["repos"]);

        // Re-applying the same config patches only creationTimestamp: null, which a server ignores: no write.
        Assert.Contains("configmap/github-actions", await Kubectl(ConfigMapCommand));
        Assert.Equal(cm.Metadata.ResourceVersion, (await world.Admin.CoreV1.ReadNamespacedConfigMapAsync("github-actions", "blip")).Metadata.ResourceVersion);
        var changed = ConfigMapCommand.Replace("my-org/my-repo", "my-org/my-repo,my-org/second");
        Assert.Contains("configmap/github-actions configured", await Kubectl(changed));
        cm = await world.Admin.CoreV1.ReadNamespacedConfigMapAsync("github-actions", "blip");
        Assert.Equal("my-org/my-repo,my-org/second", cm.Data["repos"]);
        Assert.Equal("self-hosted,blip", cm.Data["runner-labels"]);

        var yaml = await Kubectl("kubectl get configmap github-actions -n blip -o yaml");
        Assert.Contains("repos: my-org/my-repo,my-org/second", yaml);
        Assert.Contains("name: github-actions", yaml);
    }

    [Fact]
    public async Task Kubectl_gets_annotates_and_deletes_pool_vms()
    {
        var (_, info) = await world.ReadyVmAsync();
        world.Api.Store.Mutate(KubeResource.VirtualMachines, "blip", info.Name, vm =>
            vm["metadata"]!["annotations"]!["blip.io/session-id"] = "actions-42", "test");

        var table = await Kubectl("kubectl get vm -n blip");
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "AGE", "STATUS", "READY", "SESSION", "REPO", "JOB"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var row = lines.Single(l => l.StartsWith(info.Name + " ")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["Running", "True", "actions-42"], row[2..5]);
        Assert.Contains(info.Address.ToString(), await Kubectl("kubectl get vmi -n blip"));

        await Kubectl($"kubectl annotate vm {info.Name} -n blip foo=bar");
        var annotated = world.Api.Store.Get(KubeResource.VirtualMachines, "blip", info.Name);
        Assert.Equal("bar", annotated["metadata"]!["annotations"]!["foo"]!.GetValue<string>());
        Assert.Equal("actions-42", annotated["metadata"]!["annotations"]!["blip.io/session-id"]!.GetValue<string>());

        var uid = annotated["metadata"]!["uid"]!.GetValue<string>();
        // kubectl waits for the VM to be gone (the pool's finalizer removed); the pool has replaced it meanwhile.
        Assert.Contains($"virtualmachine.kubevirt.io \"{info.Name}\" deleted", await Kubectl($"kubectl delete vm {info.Name} -n blip"));
        await Deadline.EventuallyAsync(() =>
            world.Pool.ReadyVmNames().Count == 2
            && world.Api.Store.List(KubeResource.VirtualMachines, "blip").Items.All(v => v["metadata"]!["uid"]!.GetValue<string>() != uid),
            KubeWorld.Deadline, "the pool to replace the deleted VM");
    }

    [Fact]
    public async Task A_plain_kubectl_create_secret_generic_creates_the_secret()
    {
        // Without --dry-run | apply kubectl sends the Secret as protobuf.
        Assert.Contains("secret/plain-secret created", await Kubectl("kubectl create secret generic plain-secret -n blip --from-literal=k=v --from-literal=other=two"));

        var json = System.Text.Json.Nodes.JsonNode.Parse(await Kubectl("kubectl get secret plain-secret -n blip -o json"))!;
        Assert.Equal(Convert.ToBase64String("v"u8.ToArray()), json["data"]!["k"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String("two"u8.ToArray()), json["data"]!["other"]!.GetValue<string>());
        Assert.Equal("Opaque", json["type"]!.GetValue<string>());
        Assert.Contains("configmap/plain-map created", await Kubectl("kubectl create configmap plain-map -n blip --from-literal=a=b"));
        Assert.Equal("b", (await world.Admin.CoreV1.ReadNamespacedConfigMapAsync("plain-map", "blip")).Data["a"]);
    }

    [Fact]
    public async Task Kubectl_get_events_prints_the_api_servers_event_columns()
    {
        var (_, info) = await world.ReadyVmAsync();
        await RecordVmEventAsync(info.Name, "VmClaimed", "claimed for job 7", "Normal");

        var lines = (await Kubectl("kubectl get events -n blip")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$", lines[0].TrimEnd());
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^\d+s\s+Normal\s+VmClaimed\s+virtualmachine/{info.Name}\s+claimed for job 7$"));

        var wide = (await Kubectl("kubectl get events -n blip -o wide")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+MESSAGE\s+FIRST SEEN\s+COUNT\s+NAME$", wide[0].TrimEnd());
        Assert.Contains(wide, l => l.Contains("blip-controller, test-node", StringComparison.Ordinal) && l.Contains("claimed for job 7", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubectl_events_for_a_vm_lists_that_vms_events_only()
    {
        var (_, first) = await world.ReadyVmAsync();
        var (_, second) = await world.ReadyVmAsync(except: n => n == first.Name);
        await RecordVmEventAsync(first.Name, "VmReleased", "released after job 8", "Normal");
        await RecordVmEventAsync(second.Name, "VmClaimFailed", "someone else's event", "Warning");

        var output = await Kubectl($"kubectl events --for vm/{first.Name} -n blip");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$", lines[0].TrimEnd());
        Assert.Contains(lines, l => l.Contains("VmReleased", StringComparison.Ordinal) && l.Contains($"VirtualMachine/{first.Name}", StringComparison.Ordinal));
        Assert.DoesNotContain("someone else's event", output);
    }

    /// <summary>An event about a pool VM, written as the controller writes it (KubeVirtVmPool.RecordEventAsync).</summary>
    private async Task RecordVmEventAsync(string vm, string reason, string message, string type)
    {
        var uid = world.Api.Store.Get(KubeResource.VirtualMachines, "blip", vm)["metadata"]!["uid"]!.GetValue<string>();
        var now = DateTime.UtcNow;
        await world.Admin.CoreV1.CreateNamespacedEventAsync(new k8s.Models.Corev1Event
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = $"{vm}.{now.Ticks:x}", NamespaceProperty = "blip" },
            InvolvedObject = new k8s.Models.V1ObjectReference { ApiVersion = "kubevirt.io/v1", Kind = "VirtualMachine", Name = vm, NamespaceProperty = "blip", Uid = uid },
            Reason = reason,
            Message = message,
            Type = type,
            Source = new k8s.Models.V1EventSource { Component = "blip-controller", Host = "test-node" },
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        }, "blip");
    }

    private async Task<string> Pat()
    {
        var secret = await world.Admin.CoreV1.ReadNamespacedSecretAsync("github-pat", "blip");
        return Encoding.UTF8.GetString(secret.Data["token"]);
    }

    private async Task<string> Kubectl(string commandLine, IDictionary<string, string>? environment = null)
    {
        var (exit, stdout, stderr) = await world.BashAsync(commandLine, environment);
        Assert.True(exit == 0, $"`{commandLine}` exited {exit}: {stderr}");
        return stdout;
    }
}
