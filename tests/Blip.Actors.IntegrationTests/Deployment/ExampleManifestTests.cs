using Blip.Actors.Hosting;
using YamlDotNet.RepresentationModel;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>k8s/examples: the objects the spec tells the operator to create, with the names and keys the controller reads.</summary>
public sealed class ExampleManifestTests
{
    private static K8sObject Example(string file) => Assert.Single(Yaml.ParseObjects(Repo.Read("k8s", "examples", file)));

    [Fact]
    public void ConfigMap_has_the_spec_name_and_keys()
    {
        var cm = Example("github-actions-configmap.yaml");
        Assert.Equal(("ConfigMap", "github-actions", "blip"), (cm.Kind, cm.Name, cm.Namespace));
        var data = Yaml.Dict(cm.Root, "data");
        Assert.Equal(["repos", "runner-labels"], data.Keys.Order());
        Assert.Equal("self-hosted,blip", data["runner-labels"]);
        Assert.All(data["repos"].Split(','), r => Assert.Matches(@"^[\w.-]+/[\w.-]+$", r.Trim()));
    }

    [Fact]
    public void Pat_secret_is_a_placeholder_with_the_spec_name_and_key_and_points_to_the_kubectl_command()
    {
        var secret = Example("github-pat-secret.yaml");
        Assert.Equal(("Secret", "github-pat", "blip"), (secret.Kind, secret.Name, secret.Namespace));
        var token = Assert.Single(Yaml.Dict(secret.Root, "stringData"));
        Assert.Equal("token", token.Key);
        Assert.Contains("REPLACE_ME", token.Value, StringComparison.Ordinal);
        Assert.Contains("--from-literal=token=\"$GITHUB_PAT\"", Repo.Read("k8s", "examples", "github-pat-secret.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void App_secret_and_ca_bundle_are_placeholders_with_the_names_and_keys_the_controller_reads()
    {
        var app = Example("github-app-secret.yaml");
        Assert.Equal(("Secret", Blip.Actors.Config.GitHubAppCredentials.SecretName, "blip"), (app.Kind, app.Name, app.Namespace));
        var data = Yaml.Dict(app.Root, "stringData");
        Assert.Equal([Blip.Actors.Config.GitHubAppCredentials.AppIdKey, Blip.Actors.Config.GitHubAppCredentials.PrivateKeyKey], data.Keys.Order());
        Assert.All(data.Values, v => Assert.Contains("REPLACE_ME", v, StringComparison.Ordinal));
        Assert.Contains("--from-file=private-key=", Repo.Read("k8s", "examples", "github-app-secret.yaml"), StringComparison.Ordinal);

        var ca = Example("github-ca-configmap.yaml");
        Assert.Equal(("ConfigMap", Blip.Actors.Config.GitHubCaBundle.ObjectName, "blip"), (ca.Kind, ca.Name, ca.Namespace));
        Assert.Equal([Blip.Actors.Config.GitHubCaBundle.Key], Yaml.Dict(ca.Root, "data").Keys);
    }

    [Fact]
    public void Vm_pool_labels_its_vms_for_the_controllers_pool_and_boots_the_runner_image_with_cloud_init()
    {
        var pool = Example("runner-vm-pool.yaml");
        Assert.Equal(("pool.kubevirt.io/v1alpha1", "VirtualMachinePool", "blip"), (pool.ApiVersion, pool.Kind, pool.Name));

        var label = $"blip.io/pool";
        var expected = new BlipOptions().Pool;
        Assert.Equal(expected, Yaml.Dict(pool.Root, "spec", "selector", "matchLabels").GetValueOrDefault(label));
        // The controller lists VirtualMachines by this label: it must be on the VM template's metadata.
        Assert.Equal(expected, Yaml.Dict(pool.Root, "spec", "virtualMachineTemplate", "metadata", "labels").GetValueOrDefault(label));

        var vmSpec = Yaml.Map(pool.Root, "spec", "virtualMachineTemplate", "spec");
        // A guest power-off must leave the VMI Succeeded, not restart it.
        Assert.Equal("RerunOnFailure", Yaml.Str(vmSpec, "runStrategy"));
        var volumes = Yaml.Seq(vmSpec, "template", "spec", "volumes").OfType<YamlMappingNode>().ToList();
        Assert.Contains(volumes, v => Yaml.TryStr(v, "containerDisk", "image") == "ghcr.io/example/blip-github-runner:latest");
        var userData = volumes.Select(v => Yaml.TryStr(v, "cloudInitNoCloud", "userData")).Single(u => u is not null)!;
        Assert.StartsWith("#cloud-config", userData, StringComparison.Ordinal);

        // Every volume is attached as a disk.
        var disks = Yaml.Seq(vmSpec, "template", "spec", "domain", "devices", "disks").OfType<YamlMappingNode>().Select(d => Yaml.Str(d, "name")).ToHashSet();
        Assert.All(volumes, v => Assert.Contains(Yaml.Str(v, "name"), disks));
    }

    [Fact]
    public void Routed_pools_example_has_a_pools_value_the_controller_accepts_and_a_vm_pool_for_the_default_and_each_routed_pool()
    {
        var objects = Yaml.ParseObjects(Repo.Read("k8s", "examples", "routed-vm-pools.yaml"));
        var cm = Assert.Single(objects, o => o.Kind == "ConfigMap");
        Assert.Equal((Blip.Actors.Config.ActionsConfig.ConfigMapName, "blip"), (cm.Name, cm.Namespace));
        var data = Yaml.Dict(cm.Root, "data");
        var routes = Blip.Actors.Config.PoolRoutes.Parse(data[Blip.Actors.Config.PoolRoutes.Key], data["runner-labels"].Split(','));
        Assert.Null(routes.Error);

        var pools = objects.Where(o => o.Kind == "VirtualMachinePool").ToList();
        Assert.Equal([new BlipOptions().Pool, .. routes.Routes!.Pools.Order(StringComparer.Ordinal)], pools.Select(p => p.Name));
        // The controller tells the pools apart by this label on each VM.
        Assert.All(pools, p => Assert.Equal(p.Name, Yaml.Dict(p.Root, "spec", "virtualMachineTemplate", "metadata", "labels").GetValueOrDefault("blip.io/pool")));
    }
}
