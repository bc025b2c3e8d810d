using YamlDotNet.RepresentationModel;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>One Kubernetes object of a multi-document YAML stream.</summary>
internal sealed record K8sObject(string ApiVersion, string Kind, string Name, string? Namespace, YamlMappingNode Root);

/// <summary>Reading Kubernetes YAML with YamlDotNet's representation model; a missing path fails the test with its name.</summary>
internal static class Yaml
{
    public static IReadOnlyList<K8sObject> ParseObjects(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents
            .Select(d => d.RootNode)
            .OfType<YamlMappingNode>()
            .Select(root => new K8sObject(
                Str(root, "apiVersion"),
                Str(root, "kind"),
                Str(root, "metadata", "name"),
                TryStr(root, "metadata", "namespace"),
                root))
            .ToList();
    }

    public static YamlNode? TryNode(YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }
            current = next;
        }
        return current;
    }

    public static YamlNode Node(YamlNode node, params string[] path) =>
        TryNode(node, path) ?? throw new Xunit.Sdk.XunitException($"YAML has no {string.Join('.', path)}");

    public static string? TryStr(YamlNode node, params string[] path) => (TryNode(node, path) as YamlScalarNode)?.Value;

    public static string Str(YamlNode node, params string[] path) =>
        TryStr(node, path) ?? throw new Xunit.Sdk.XunitException($"YAML has no scalar {string.Join('.', path)}");

    public static YamlMappingNode Map(YamlNode node, params string[] path) =>
        Node(node, path) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"YAML {string.Join('.', path)} is not a mapping");

    public static IReadOnlyList<YamlNode> Seq(YamlNode node, params string[] path) =>
        TryNode(node, path) is YamlSequenceNode seq ? seq.Children.ToList() : [];

    public static IReadOnlyList<string> Strings(YamlNode node, params string[] path) =>
        Seq(node, path).OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList();

    /// <summary>A mapping of scalars (labels, selectors, ConfigMap data) as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> Dict(YamlNode node, params string[] path) =>
        TryNode(node, path) is YamlMappingNode map
            ? map.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value ?? "", kv => (kv.Value as YamlScalarNode)?.Value ?? "")
            : new Dictionary<string, string>();
}
