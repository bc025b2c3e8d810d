using Akka.Actor;
using Akka.Hosting;
using Blip.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.IntegrationTests.Harness;

/// <summary>The controller in this process, composed exactly as the host executable composes it.</summary>
public sealed class ControllerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ControllerHost(IHost host, BlipOptions options, CapturedLog log)
    {
        _host = host;
        Options = options;
        Log = log;
    }

    public BlipOptions Options { get; }

    public CapturedLog Log { get; }

    public ActorSystem ActorSystem => _host.Services.GetRequiredService<ActorSystem>();

    public IActorRegistry Registry => _host.Services.GetRequiredService<IActorRegistry>();

    public static async Task<ControllerHost> StartAsync(BlipOptions options, CapturedLog log)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddProvider(log);
        builder.Services.AddBlipController(options);
        var host = builder.Build();
        await host.StartAsync();
        return new ControllerHost(host, options, log);
    }

    public async Task StopAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _host.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }

    /// <summary>A TCP port free right now on loopback (for the node's remoting).</summary>
    public static int FreePort() => Blip.Sandbox.Shared.LoopbackPorts.Free();
}
