using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// A Kubernetes API server on loopback HTTPS, good enough for KubernetesClient and kubectl: core/v1
/// namespaces, configmaps, secrets, events, pods (with their log); events.k8s.io/v1 events; kubevirt.io/v1 virtualmachines and
/// virtualmachineinstances. Bearer tokens: the admin token may do anything, the controller token is
/// held to the Role in k8s/rbac.yaml. State lives in <see cref="Store"/>.
/// </summary>
/// <remarks>
/// One partial file per concern: start, stop and the server's identity here; <c>.Clients.cs</c> kubeconfig and clients;
/// <c>.Routing.cs</c> the request pipeline and its JSON helpers; <c>.Auth.cs</c> tokens and RBAC; <c>.Discovery.cs</c>
/// discovery and OpenAPI; <c>.Resources.cs</c> get, list, create, update, patch, delete; <c>.Watch.cs</c> watches; <c>.Logs.cs</c> pod logs;
/// <c>.Admin.cs</c> the <c>/_sandbox/</c> admin API and request stats.
/// </remarks>
public sealed partial class KubeApiEmulator : IAsyncDisposable
{
    public const string AdminUser = "admin";
    public const string ControllerAuditUser = "controller";

    private readonly WebApplication _app;
    private readonly ServingCertificates _certificates;
    private readonly KubeApiEmulatorOptions _options;
    private readonly Rbac _rbac;
    private readonly Dictionary<string, (string User, string AuditName)> _tokens;
    private readonly CancellationTokenSource _stopping = new();

    private KubeApiEmulator(WebApplication app, ServingCertificates certificates, KubeApiEmulatorOptions options, Rbac rbac)
    {
        _app = app;
        _certificates = certificates;
        _options = options;
        _rbac = rbac;
        Store = new KubeStore(options.WatchHistory, options.Namespaces);
        ControllerPods = new ControllerPods(Store);
        AdminToken = options.AdminToken ?? NewToken();
        ControllerToken = options.ControllerToken ?? NewToken();
        _tokens = new Dictionary<string, (string, string)>
        {
            [AdminToken] = (AdminUser, AdminUser),
            [ControllerToken] = (options.ControllerUser, ControllerAuditUser),
        };
    }

    public KubeStore Store { get; }

    /// <summary>The pods the sandbox publishes for its controller processes, and their logs.</summary>
    public ControllerPods ControllerPods { get; }
    public KubeFaults Faults { get; } = new();
    public Uri Url { get; private set; } = null!;
    public string AdminToken { get; }
    public string ControllerToken { get; }
    public string CaCertificatePem => _certificates.CaPem;

    public static async Task<KubeApiEmulator> StartAsync(KubeApiEmulatorOptions options, CancellationToken ct = default)
    {
        var rbac = options.RbacYaml is null ? Rbac.FromEmbeddedManifest() : Rbac.Parse(options.RbacYaml);
        var certificates = ServingCertificates.Create(options.Address);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(options.Address, options.Port, listen => listen.UseHttps(certificates.Server));
        });
        var app = builder.Build();
        var emulator = new KubeApiEmulator(app, certificates, options, rbac);
        emulator.MapRoutes();
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        emulator.Url = new Uri($"https://{FormatHost(options.Address)}:{port}/");
        return emulator;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Store.CloseAllWatches();
        try
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stopTimeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
            _certificates.Dispose();
            _stopping.Dispose();
        }
    }

    private static string NewToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
