using k8s;

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

            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
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
}
