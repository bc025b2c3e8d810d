using Blip.Actors.Config;
using k8s;
using Microsoft.Extensions.DependencyInjection;

namespace Blip.Actors.Kubernetes;

/// <summary>Registers the Kubernetes client and the adapters on it: the VM pool and the config source.</summary>
public static class KubernetesRegistration
{
    /// <param name="handlers">HTTP handlers around every Kubernetes request (e.g. counting), given the services.</param>
    public static IServiceCollection AddKubernetes(this IServiceCollection services, KubernetesOptions options, Func<IServiceProvider, DelegatingHandler[]> handlers) =>
        services
            .AddSingleton(options)
            .AddSingleton<IKubernetes>(sp => KubeClientFactory.Create(options, handlers(sp)))
            .AddSingleton<KubeVirtVmPool>()
            .AddSingleton<IConfigSource, KubeConfigSource>();
}
