using k8s;
using k8s.KubeConfigModels;
using YamlDotNet.Serialization;

namespace Blip.Actors.Kubernetes;

/// <summary>Builds the KubernetesClient: an explicit kubeconfig, else in-cluster, else $KUBECONFIG / ~/.kube/config.</summary>
public static class KubeClientFactory
{
    public static IKubernetes Create(KubernetesOptions options, params DelegatingHandler[] handlers)
    {
        KubernetesClientConfiguration config;
        if (!string.IsNullOrWhiteSpace(options.Kubeconfig))
        {
            if (!File.Exists(options.Kubeconfig))
            {
                throw new InvalidOperationException($"Blip:Kubeconfig '{options.Kubeconfig}' does not exist");
            }

            config = KubernetesClientConfiguration.BuildConfigFromConfigObject(LoadKubeconfig(options.Kubeconfig));
        }
        else if (KubernetesClientConfiguration.IsInCluster())
        {
            config = KubernetesClientConfiguration.InClusterConfig();
        }
        else
        {
            config = KubernetesClientConfiguration.BuildDefaultConfig();
        }

        return new k8s.Kubernetes(config, handlers);
    }

    /// <summary>
    /// The kubeconfig at <paramref name="path"/>, read as <c>BuildConfigFromConfigFile</c> reads it (relative paths are
    /// relative to the file), with a plain YAML reader: the client's own (<c>KubernetesYaml</c>) registers every model
    /// type of the client on first use, about 8 MB of heap and the type loading behind it that the controller would
    /// keep for its whole life to read one small file (dotnet-gcdump of the controller, scale benchmark).
    /// The kubeconfig models name every key with <c>[YamlMember(Alias)]</c>, so no naming convention is needed.
    /// </summary>
    public static K8SConfiguration LoadKubeconfig(string path)
    {
        using var reader = File.OpenText(path);
        var kubeconfig = KubeconfigReader.Deserialize<K8SConfiguration>(reader)
            ?? throw new InvalidOperationException($"Blip:Kubeconfig '{path}' is empty");
        kubeconfig.FileName = Path.GetFullPath(path);
        return kubeconfig;
    }

    private static readonly IDeserializer KubeconfigReader = new DeserializerBuilder().IgnoreUnmatchedProperties().Build();
}
