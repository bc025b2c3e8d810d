namespace Blip.Actors.Kubernetes;

/// <summary>The settings the Kubernetes adapters read; bound and validated as part of <c>Hosting.BlipOptions</c> (same names).</summary>
public sealed class KubernetesOptions
{
    /// <summary>Where a pod finds its own namespace (the service account's projected volume).</summary>
    public const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>Namespace of the Secrets, the ConfigMap and the VMs. Default: the pod's own namespace (in a pod),
    /// else <c>blip</c>.</summary>
    public string Namespace { get; init; } = DefaultNamespace(ServiceAccountNamespaceFile);

    /// <summary>The VM pool: VMs labelled <c>blip.io/pool=&lt;Pool&gt;</c>.</summary>
    public string Pool { get; init; } = "blip";

    /// <summary>Kubeconfig file; empty: in-cluster config when in a pod, else $KUBECONFIG or ~/.kube/config.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>Written into <c>blip.io/claimed-by</c> and as the reporting instance of the controller's events.</summary>
    public string NodeName { get; init; } = Environment.MachineName;

    /// <summary>The namespace in <paramref name="serviceAccountFile"/> when it exists and holds one, else <c>blip</c>.</summary>
    public static string DefaultNamespace(string serviceAccountFile)
    {
        try
        {
            var fromPod = File.Exists(serviceAccountFile) ? File.ReadAllText(serviceAccountFile).Trim() : "";
            return fromPod.Length > 0 ? fromPod : "blip";
        }
        catch (IOException)
        {
            return "blip";
        }
        catch (UnauthorizedAccessException)
        {
            return "blip";
        }
    }
}
