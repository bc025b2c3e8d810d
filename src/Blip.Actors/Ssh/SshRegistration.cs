using Microsoft.Extensions.DependencyInjection;

namespace Blip.Actors.Ssh;

/// <summary>Registers the SSH.NET adapter (the caller decides what wraps it as <c>IRunnerShell</c>).</summary>
public static class SshRegistration
{
    public static IServiceCollection AddSsh(this IServiceCollection services, SshOptions options) =>
        services.AddSingleton(options).AddSingleton<SshRunnerShell>();
}
