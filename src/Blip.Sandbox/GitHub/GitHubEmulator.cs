using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Blip.Sandbox.GitHub;

/// <summary>
/// An emulated GitHub REST API on 127.0.0.1 (root path), over plain HTTP (<see cref="Url"/>) and over HTTPS
/// (<see cref="HttpsUrl"/>, a certificate from a CA the emulator makes: <see cref="CaPem"/>): the Actions
/// runs/jobs/runners endpoints the controller calls, with GitHub's shapes, pagination, PAT and GitHub App
/// authentication, permissions, ETags, rate limits, injected faults and signed <c>workflow_job</c> webhooks. Beside it: the admin API
/// (<c>/_sandbox/</c>, see GitHubSandboxClient) and the protocol the fake runner speaks (<c>/_runner/</c>).
/// </summary>
/// <remarks>The class is split by surface: this part starts and stops the server; GitHubEmulator.Pipeline.cs runs the
/// REST pipeline (faults, auth, rate limit, ETag, stats); GitHubEmulator.Rest.cs, .Admin.cs and .Runner.cs hold the
/// handlers.</remarks>
public sealed partial class GitHubEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GitHubWorld _world;
    private readonly FaultInjector _faults;
    private readonly ApiStats _stats = new();
    private readonly WebhookDispatcher? _webhooks;
    private readonly GitHubEmulatorOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _lostRunnerLoop;
    private readonly Kubernetes.ServingCertificates _certificates;

    private GitHubEmulator(GitHubEmulatorOptions options, WebApplication app, Kubernetes.ServingCertificates certificates)
    {
        _options = options;
        _app = app;
        _certificates = certificates;
        var time = options.TimeProvider ?? TimeProvider.System;
        _world = new GitHubWorld(time, options.RateLimitPerHour, options.Repos) { InstallationTokenLifetime = options.InstallationTokenLifetime };
        _faults = new FaultInjector(time);
        _world.LostRunnerTimeout = options.LostRunnerTimeout;
        _world.RunnerOfflineAfter = options.RunnerOfflineAfter ?? options.RunnerLongPoll * 2;
        _world.MinimumRunnerVersion = options.MinimumRunnerVersion;
        RunnerReleases = options.RunnerReleases ?? [new SandboxRunnerRelease(Pool.VmPoolOptions.CurrentRunnerVersion, time.GetUtcNow().AddDays(-14))];
        _lostRunnerLoop = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
            try
            {
                while (await tick.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                {
                    _world.FailLostRunners();
                    _world.MarkSilentRunnersOffline();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        AdminToken = options.AdminToken ?? "sandbox_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
        if (options.WebhookUrl is { } hook)
        {
            _webhooks = new WebhookDispatcher(hook, options.WebhookSecret);
            _world.JobChanged += e => _webhooks.Enqueue(GitHubJson.WebhookPayload(e, ApiBase).ToJsonString());
        }
    }

    /// <summary>Root of the API, e.g. <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Root of the API over HTTPS, e.g. <c>https://127.0.0.1:40124/</c> (GitHub Enterprise Server behind a private CA).</summary>
    public Uri HttpsUrl { get; private set; } = null!;

    /// <summary>The CA that issued <see cref="HttpsUrl"/>'s certificate (PEM): what <c>github-ca</c> must hold.</summary>
    public string CaPem => _certificates.CaPem;

    /// <summary>Bearer token of the admin API.</summary>
    public string AdminToken { get; }

    public int WebhooksDelivered => _webhooks?.Delivered ?? 0;
    public int WebhooksFailed => _webhooks?.Failed ?? 0;

    private string ApiBase => Url.ToString().TrimEnd('/');

    public static async Task<GitHubEmulator> StartAsync(GitHubEmulatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(GitHubEmulator).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        var certificates = Kubernetes.ServingCertificates.Create(IPAddress.Loopback);
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            k.Listen(IPAddress.Loopback, options.HttpsPort, l => l.UseHttps(certificates.Server));
        });
        var app = builder.Build();
        var emulator = new GitHubEmulator(options, app, certificates);
        emulator.MapAppApi(app);
        emulator.MapRestApi(app);
        emulator.MapAdminApi(app);
        emulator.MapRunnerProtocol(app);
        await app.StartAsync(ct).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        emulator.Url = new Uri(addresses.First(a => a.StartsWith("http:", StringComparison.Ordinal)).TrimEnd('/') + "/");
        emulator.HttpsUrl = new Uri(addresses.First(a => a.StartsWith("https:", StringComparison.Ordinal)).TrimEnd('/') + "/");
        return emulator;
    }

    /// <summary>Replaces the fault set (same as <c>PUT /_sandbox/faults</c>).</summary>
    public void SetFaults(SandboxFaults faults)
    {
        _faults.Set(faults);
        foreach (var exhausted in faults.ExhaustedTokens ?? [])
        {
            _world.SetBudget(exhausted.Token, 0, exhausted.ResetSeconds);
        }
    }

    /// <summary>Sets what is left of a token's primary budget (same as <c>PUT /_sandbox/tokens/{token}/budget</c>).</summary>
    public bool SetBudget(string token, int remaining, int resetSeconds = 3600) => _world.SetBudget(token, remaining, resetSeconds);

    /// <summary>Issues a PAT (same as <c>POST /_sandbox/tokens</c>).</summary>
    public string CreateToken(CreateTokenRequest request) => _world.CreateToken(request);

    /// <summary>Queues a job (same as <c>POST /_sandbox/jobs</c>).</summary>
    public QueuedJob QueueJob(QueueJobRequest request) => _world.QueueJob(request);

    /// <summary>A client of this emulator's admin API.</summary>
    public GitHubSandboxClient CreateAdminClient() => new(Url, AdminToken);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _lostRunnerLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        _certificates.Dispose();
        if (_webhooks is not null)
        {
            await _webhooks.DisposeAsync().ConfigureAwait(false);
        }
    }
}
