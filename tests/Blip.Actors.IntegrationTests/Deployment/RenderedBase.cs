using YamlDotNet.RepresentationModel;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary><c>kubectl kustomize k8s/</c>, rendered once per test run and parsed.</summary>
internal static class RenderedBase
{
    private static readonly Lazy<Task<Repo.ProcessResult>> Render = new(() => Kubectl.KustomizeAsync(Repo.PathOf("k8s")));

    public static async Task<IReadOnlyList<K8sObject>> ObjectsAsync()
    {
        var result = await Render.Value;
        Assert.True(result.ExitCode == 0, $"kubectl kustomize k8s/ exited {result.ExitCode}: {result.StdErr}");
        // "Renders cleanly": no warnings either (deprecated fields, unused patches, ...).
        Assert.True(result.StdErr.Trim().Length == 0, $"kubectl kustomize k8s/ warned: {result.StdErr}");
        return Yaml.ParseObjects(result.StdOut);
    }

    public static async Task<K8sObject> SingleAsync(string kind, string name = "blip-controller")
    {
        var objects = await ObjectsAsync();
        return Assert.Single(objects, o => o.Kind == kind && o.Name == name);
    }

    public static async Task<YamlMappingNode> ControllerContainerAsync()
    {
        var sts = await SingleAsync("StatefulSet");
        var containers = Yaml.Seq(sts.Root, "spec", "template", "spec", "containers").OfType<YamlMappingNode>().ToList();
        return Assert.Single(containers);
    }

    /// <summary>The container's env in order: name → (literal value, or null when it comes from valueFrom; the entry itself).</summary>
    public static async Task<IReadOnlyList<(string Name, string? Value, YamlMappingNode Entry)>> EnvAsync()
    {
        var container = await ControllerContainerAsync();
        return Yaml.Seq(container, "env").OfType<YamlMappingNode>()
            .Select(e => (Yaml.Str(e, "name"), Yaml.TryStr(e, "value"), e))
            .ToList();
    }
}
