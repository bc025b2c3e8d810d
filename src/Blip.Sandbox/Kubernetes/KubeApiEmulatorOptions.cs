using System.Net;

namespace Blip.Sandbox.Kubernetes;

public sealed class KubeApiEmulatorOptions
{
    /// <summary>Namespaces that exist from the start.</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = ["blip"];

    /// <summary>How many events are kept for watch resume; a watch from an older resourceVersion gets 410 Gone.</summary>
    public int WatchHistory { get; init; } = 1000;

    /// <summary>Server-side end of a watch that names no timeoutSeconds (a real API server picks 30–60 min).</summary>
    public TimeSpan DefaultWatchTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How often a watch with allowWatchBookmarks=true gets a BOOKMARK.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Loopback address to listen on; port 0 picks a free one.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    public int Port { get; init; }

    /// <summary>Fixed tokens (random when null), e.g. to keep a kubeconfig valid across restarts.</summary>
    public string? AdminToken { get; init; }

    public string? ControllerToken { get; init; }

    /// <summary>RBAC manifest for the controller's token; null = the embedded k8s/rbac.yaml.</summary>
    public string? RbacYaml { get; init; }

    /// <summary>The user the controller token authenticates as (bound by the manifest's RoleBinding).</summary>
    public string ControllerUser { get; init; } = "system:serviceaccount:blip:blip-controller";
}
