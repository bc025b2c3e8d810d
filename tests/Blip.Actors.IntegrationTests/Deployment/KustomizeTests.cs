using Blip.Sandbox.Kubernetes;
using YamlDotNet.RepresentationModel;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>The kustomize base in k8s/ renders and holds what a 3-replica controller needs.</summary>
public sealed class KustomizeTests
{
    private const string Ns = "blip";
    private const string App = "blip-controller";

    [Fact]
    public async Task Base_renders_offline_with_exactly_the_expected_objects_all_in_namespace_blip()
    {
        var objects = await RenderedBase.ObjectsAsync();

        var kinds = objects.Select(o => $"{o.Kind}/{o.Name}").Order().ToList();
        Assert.Equal(
            new[]
            {
                "Namespace/blip", "NetworkPolicy/blip-controller", "PodDisruptionBudget/blip-controller", "Role/blip-controller", "RoleBinding/blip-controller",
                "Service/blip-controller", "ServiceAccount/blip-controller", "StatefulSet/blip-controller",
            },
            kinds);
        Assert.All(objects.Where(o => o.Kind != "Namespace"), o => Assert.Equal(Ns, o.Namespace));
        // The examples (PAT placeholder, pool) are the operator's: never part of the base.
        Assert.DoesNotContain(objects, o => o.Kind is "Secret" or "ConfigMap" or "VirtualMachinePool");
    }

    [Fact]
    public async Task StatefulSet_runs_three_labelled_replicas_under_the_controller_service_account()
    {
        var sts = (await RenderedBase.SingleAsync("StatefulSet")).Root;
        var pod = Yaml.Map(sts, "spec", "template");

        Assert.Equal("apps/v1", Yaml.Str(sts, "apiVersion"));
        Assert.Equal("3", Yaml.Str(sts, "spec", "replicas"));
        Assert.Equal(App, Yaml.Str(sts, "spec", "serviceName"));
        Assert.Equal(App, Yaml.Dict(pod, "metadata", "labels").GetValueOrDefault("app"));
        // The selector must select the pods, and the spec's `kubectl logs -l app=blip-controller` needs that label.
        var selector = Yaml.Dict(sts, "spec", "selector", "matchLabels");
        Assert.Equal(App, selector.GetValueOrDefault("app"));
        Assert.All(selector, kv => Assert.Equal(kv.Value, Yaml.Dict(pod, "metadata", "labels").GetValueOrDefault(kv.Key)));
        Assert.Equal(App, Yaml.Str(pod, "spec", "serviceAccountName"));
        Assert.Equal("60", Yaml.Str(pod, "spec", "terminationGracePeriodSeconds"));

        var container = await RenderedBase.ControllerContainerAsync();
        Assert.Equal("ghcr.io/example/blip-actors-controller:latest", Yaml.Str(container, "image"));
    }

    [Fact]
    public async Task Probes_hit_the_health_endpoints_on_the_management_port()
    {
        var container = await RenderedBase.ControllerContainerAsync();
        var ports = Yaml.Seq(container, "ports").OfType<YamlMappingNode>()
            .ToDictionary(p => Yaml.Str(p, "name"), p => Yaml.Str(p, "containerPort"));
        Assert.Equal("4053", ports.GetValueOrDefault("akka"));
        Assert.Equal("9110", ports.GetValueOrDefault("management"));

        foreach (var (probe, path) in new[] { ("readinessProbe", "/healthz/ready"), ("livenessProbe", "/healthz/live") })
        {
            Assert.Equal(path, Yaml.Str(container, probe, "httpGet", "path"));
            var port = Yaml.Str(container, probe, "httpGet", "port");
            Assert.Equal("9110", ports.GetValueOrDefault(port, port));
        }
    }

    [Fact]
    public async Task Pod_is_locked_down_and_has_resources_and_writable_scratch_volumes()
    {
        var sts = (await RenderedBase.SingleAsync("StatefulSet")).Root;
        var podSpec = Yaml.Map(sts, "spec", "template", "spec");
        var container = await RenderedBase.ControllerContainerAsync();

        Assert.Equal("true", Yaml.Str(podSpec, "securityContext", "runAsNonRoot"));
        Assert.Equal("10001", Yaml.Str(podSpec, "securityContext", "runAsUser"));
        Assert.Equal("RuntimeDefault", Yaml.Str(podSpec, "securityContext", "seccompProfile", "type"));
        Assert.Equal("true", Yaml.Str(container, "securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("false", Yaml.Str(container, "securityContext", "allowPrivilegeEscalation"));
        Assert.Equal(["ALL"], Yaml.Strings(container, "securityContext", "capabilities", "drop"));

        Assert.NotNull(Yaml.TryStr(container, "resources", "requests", "cpu"));
        Assert.NotNull(Yaml.TryStr(container, "resources", "requests", "memory"));
        Assert.NotNull(Yaml.TryStr(container, "resources", "limits", "memory"));

        // A read-only root needs emptyDirs wherever the process writes.
        var emptyDirs = Yaml.Seq(podSpec, "volumes").OfType<YamlMappingNode>()
            .Where(v => Yaml.TryNode(v, "emptyDir") is not null).Select(v => Yaml.Str(v, "name")).ToHashSet();
        var mounts = Yaml.Seq(container, "volumeMounts").OfType<YamlMappingNode>()
            .ToDictionary(m => Yaml.Str(m, "mountPath"), m => Yaml.Str(m, "name"));
        foreach (var path in new[] { "/var/lib/blip", "/tmp" })
        {
            Assert.True(mounts.TryGetValue(path, out var volume), $"nothing is mounted at {path}");
            Assert.Contains(volume, emptyDirs);
        }
    }

    [Fact]
    public async Task Headless_service_publishes_not_ready_pods_on_the_container_ports()
    {
        var svc = (await RenderedBase.SingleAsync("Service")).Root;
        var sts = (await RenderedBase.SingleAsync("StatefulSet")).Root;
        var container = await RenderedBase.ControllerContainerAsync();

        Assert.Equal("None", Yaml.Str(svc, "spec", "clusterIP"));
        Assert.Equal("true", Yaml.Str(svc, "spec", "publishNotReadyAddresses"));
        var podLabels = Yaml.Dict(sts, "spec", "template", "metadata", "labels");
        var selector = Yaml.Dict(svc, "spec", "selector");
        Assert.NotEmpty(selector);
        Assert.All(selector, kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));

        var containerPorts = Yaml.Seq(container, "ports").OfType<YamlMappingNode>()
            .ToDictionary(p => Yaml.Str(p, "name"), p => Yaml.Str(p, "containerPort"));
        var servicePorts = Yaml.Seq(svc, "spec", "ports").OfType<YamlMappingNode>().ToList();
        Assert.Equal(["4053", "9110"], servicePorts.Select(p => Yaml.Str(p, "port")).Order().ToArray());
        foreach (var port in servicePorts)
        {
            var target = Yaml.TryStr(port, "targetPort") ?? Yaml.Str(port, "port");
            Assert.Equal(Yaml.Str(port, "port"), containerPorts.GetValueOrDefault(target, target));
        }
    }

    [Fact]
    public async Task PodDisruptionBudget_allows_one_replica_down_and_selects_the_pods()
    {
        var pdb = (await RenderedBase.SingleAsync("PodDisruptionBudget")).Root;
        var sts = (await RenderedBase.SingleAsync("StatefulSet")).Root;

        Assert.Equal("policy/v1", Yaml.Str(pdb, "apiVersion"));
        Assert.Equal("1", Yaml.Str(pdb, "spec", "maxUnavailable"));
        var podLabels = Yaml.Dict(sts, "spec", "template", "metadata", "labels");
        var selector = Yaml.Dict(pdb, "spec", "selector", "matchLabels");
        Assert.NotEmpty(selector);
        Assert.All(selector, kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
    }

    [Fact]
    public async Task NetworkPolicy_admits_the_cluster_port_only_from_controller_pods_and_management_from_labelled_namespaces()
    {
        var policy = (await RenderedBase.SingleAsync("NetworkPolicy")).Root;
        var sts = (await RenderedBase.SingleAsync("StatefulSet")).Root;
        var podLabels = Yaml.Dict(sts, "spec", "template", "metadata", "labels");

        Assert.Equal("networking.k8s.io/v1", Yaml.Str(policy, "apiVersion"));
        var selected = Yaml.Dict(policy, "spec", "podSelector", "matchLabels");
        Assert.NotEmpty(selected);
        Assert.All(selected, kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
        Assert.Equal(["Ingress"], Yaml.Strings(policy, "spec", "policyTypes"));

        // Every (port, peer) the policy admits: the peer is "pods:<labels>" or "namespaces:<labels>".
        var admitted = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rule in Yaml.Seq(policy, "spec", "ingress").OfType<YamlMappingNode>())
        {
            var peers = Yaml.Seq(rule, "from").OfType<YamlMappingNode>().ToList();
            Assert.NotEmpty(peers); // a rule without "from" would admit everyone
            var ports = Yaml.Seq(rule, "ports").OfType<YamlMappingNode>().Select(p => Yaml.Str(p, "port")).ToList();
            Assert.NotEmpty(ports); // a rule without "ports" would admit every port
            foreach (var peer in peers)
            {
                var pods = Yaml.TryNode(peer, "podSelector") is null ? null : Yaml.Dict(peer, "podSelector", "matchLabels");
                var namespaces = Yaml.TryNode(peer, "namespaceSelector") is null ? null : Yaml.Dict(peer, "namespaceSelector", "matchLabels");
                Assert.False(pods is not null && namespaces is not null, "a peer with both selectors narrows to pods in those namespaces; not expected here");
                var who = pods is not null
                    ? "pods:" + string.Join(",", pods.Select(kv => $"{kv.Key}={kv.Value}"))
                    : "namespaces:" + string.Join(",", namespaces!.Select(kv => $"{kv.Key}={kv.Value}"));
                Assert.NotEqual("namespaces:", who); // an empty namespaceSelector admits every namespace
                foreach (var port in ports)
                {
                    admitted.Add($"{port}<-{who}");
                }
            }
        }

        Assert.Equal(
            new SortedSet<string>(StringComparer.Ordinal)
            {
                "4053<-pods:app=blip-controller",
                "9110<-pods:app=blip-controller",
                "9110<-namespaces:blip.io/management-access=true",
            },
            admitted);
    }

    [Fact]
    public async Task Role_grants_exactly_the_verbs_the_controller_uses_and_is_bound_to_its_service_account()
    {
        var role = (await RenderedBase.SingleAsync("Role")).Root;
        var granted = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rule in Yaml.Seq(role, "rules").OfType<YamlMappingNode>())
        {
            foreach (var group in Yaml.Strings(rule, "apiGroups"))
            {
                foreach (var resource in Yaml.Strings(rule, "resources"))
                {
                    foreach (var verb in Yaml.Strings(rule, "verbs"))
                    {
                        granted.Add($"{group}/{resource}:{verb}");
                    }
                }
            }
        }
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        void Expect(string group, string resource, params string[] verbs)
        {
            foreach (var verb in verbs)
            {
                expected.Add($"{group}/{resource}:{verb}");
            }
        }
        Expect("", "configmaps", "get", "list", "watch");
        Expect("", "secrets", "get", "list", "watch");
        Expect("kubevirt.io", "virtualmachines", "get", "list", "watch", "update", "patch", "delete");
        Expect("kubevirt.io", "virtualmachineinstances", "get", "list", "watch");
        Expect("", "events", "create", "patch");
        Expect("events.k8s.io", "events", "create", "patch");
        Assert.Equal(expected, granted);

        var binding = (await RenderedBase.SingleAsync("RoleBinding")).Root;
        Assert.Equal("Role", Yaml.Str(binding, "roleRef", "kind"));
        Assert.Equal(App, Yaml.Str(binding, "roleRef", "name"));
        var subject = Assert.Single(Yaml.Seq(binding, "subjects").OfType<YamlMappingNode>());
        Assert.Equal("ServiceAccount", Yaml.Str(subject, "kind"));
        Assert.Equal(App, Yaml.Str(subject, "name"));
        Assert.Equal(Ns, Yaml.Str(subject, "namespace"));
    }

    [Fact]
    public async Task Rendered_rbac_authorises_the_controller_like_the_sandbox_emulator_does()
    {
        var rendered = await Kubectl.KustomizeAsync(Repo.PathOf("k8s"));
        Assert.Equal(0, rendered.ExitCode);
        // The same evaluator the sandbox's API emulator applies to the controller's token.
        var rbac = Rbac.Parse(rendered.StdOut);
        const string user = "system:serviceaccount:blip:blip-controller";

        // Only the objects it reads, each by name (a list or watch pinned by metadata.name is authorized for that name).
        foreach (var secret in new[] { "github-pat", "github-app", "github-ca", "ssh-gateway-client-key", "github-webhook" })
        {
            Assert.True(rbac.Allows(user, "watch", "", "secrets", Ns, secret));
            Assert.True(rbac.Allows(user, "list", "", "secrets", Ns, secret));
        }
        Assert.True(rbac.Allows(user, "watch", "", "configmaps", Ns, "github-actions"));
        Assert.True(rbac.Allows(user, "watch", "", "configmaps", Ns, "github-ca"));
        Assert.False(rbac.Allows(user, "watch", "", "secrets", Ns, null));
        Assert.False(rbac.Allows(user, "list", "", "configmaps", Ns, null));
        Assert.False(rbac.Allows(user, "get", "", "secrets", Ns, "someone-elses-secret"));
        Assert.True(rbac.Allows(user, "update", "kubevirt.io", "virtualmachines", Ns, "vm-1"));
        Assert.True(rbac.Allows(user, "delete", "kubevirt.io", "virtualmachines", Ns, "vm-1"));
        Assert.True(rbac.Allows(user, "watch", "kubevirt.io", "virtualmachineinstances", Ns, null));
        Assert.True(rbac.Allows(user, "create", "", "events", Ns, null));

        Assert.False(rbac.Allows(user, "update", "", "secrets", Ns, "github-pat"));
        Assert.False(rbac.Allows(user, "create", "kubevirt.io", "virtualmachines", Ns, null));
        Assert.False(rbac.Allows(user, "delete", "kubevirt.io", "virtualmachineinstances", Ns, "vm-1"));
        Assert.False(rbac.Allows(user, "get", "", "secrets", "kube-system", "anything"));
        Assert.False(rbac.Allows("system:serviceaccount:blip:default", "get", "", "secrets", Ns, "github-pat"));
    }

    [Fact]
    public void Rbac_manifest_in_k8s_is_the_one_the_sandbox_embeds()
    {
        var csproj = Repo.Read("src", "Blip.Sandbox", "Blip.Sandbox.csproj");
        Assert.Contains(@"..\..\k8s\rbac.yaml", csproj, StringComparison.Ordinal);
        var stream = new YamlStream();
        stream.Load(new StringReader(Repo.Read("k8s", "kustomization.yaml")));
        var resources = Yaml.Strings(Assert.Single(stream.Documents).RootNode, "resources");
        Assert.Contains("rbac.yaml", resources);
        Assert.DoesNotContain(resources, r => r.StartsWith("examples", StringComparison.Ordinal));
        Assert.All(resources, r => Assert.True(File.Exists(Repo.PathOf("k8s", r)), $"k8s/{r} is listed but missing"));
    }
}
