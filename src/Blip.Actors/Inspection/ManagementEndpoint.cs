using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Inspection;

/// <summary>
/// The node's management HTTP endpoint (its own Kestrel on <c>Blip:ManagementUrl</c>): health probes,
/// Prometheus metrics and the JSON API <c>blipctl</c> speaks. Started after the actor system (hosted services
/// start in registration order), stopped before it. With a token configured every route but <c>/healthz/*</c>
/// needs <c>Authorization: Bearer &lt;token&gt;</c>.
/// </summary>
public sealed class ManagementEndpoint(ManagementBinding? binding, NodeInspector inspector, ILogger<ManagementEndpoint> log) : IHostedService, IAsyncDisposable
{
    private const string PrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";
    private WebApplication? _app;

    /// <summary>Where the endpoint listens (the real port when configured with port 0); null until started or when disabled.</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (binding is null)
        {
            log.LogInformation("management endpoint disabled (Blip:ManagementUrl is empty)");
            return;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ManagementEndpoint).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(binding.Url);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        var app = builder.Build();
        if (binding.Token is { } token)
        {
            var expected = Encoding.UTF8.GetBytes("Bearer " + token);
            app.Use(async (context, next) =>
            {
                if (!context.Request.Path.StartsWithSegments("/healthz") && !Authorized(context.Request, expected))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await context.Response.WriteAsJsonAsync(new ErrorView("unauthorized: missing or wrong bearer token")).ConfigureAwait(false);
                    return;
                }

                await next(context).ConfigureAwait(false);
            });
        }

        Map(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new ManagementEndpointException($"management endpoint cannot listen on {binding.Url}: {e.Message}", e);
        }

        _app = app;
        Address = new Uri(app.Urls.First());
        log.LogInformation("management endpoint listening on {Address} ({Auth})", Address, binding.RequiresToken ? "bearer token required" : "loopback, no token");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static bool Authorized(HttpRequest request, byte[] expected)
    {
        var presented = Encoding.UTF8.GetBytes(request.Headers.Authorization.ToString());
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/healthz/live", () => inspector.IsLive
            ? Results.Json(new HealthView("live", []))
            : Results.Json(new HealthView("terminated", ["actor system terminated"]), statusCode: 503));
        app.MapGet("/healthz/ready", async (CancellationToken ct) =>
        {
            var reasons = await inspector.NotReadyReasonsAsync(ct).ConfigureAwait(false);
            return reasons.Count == 0
                ? Results.Json(new HealthView("ready", []))
                : Results.Json(new HealthView("not ready", reasons), statusCode: 503);
        });
        app.MapGet("/metrics", async () => Results.Text(await inspector.ScrapeAsync().ConfigureAwait(false), PrometheusContentType));

        var api = app.MapGroup("/api");
        api.MapGet("/cluster", () => Guard(() => Task.FromResult<object>(inspector.Cluster.ClusterState())));
        api.MapGet("/cluster/events", (long? after) => Guard(async () => await inspector.Cluster.ClusterEventsAsync(after ?? 0).ConfigureAwait(false)));
        api.MapPost("/cluster/leave", (string? address) => Guard(() => Task.FromResult<object>(inspector.Cluster.Leave(Required(address, "address")))));
        api.MapPost("/cluster/down", (string? address) => Guard(() => Task.FromResult<object>(inspector.Cluster.Down(Required(address, "address")))));
        api.MapPost("/cluster/down-unreachable", () => Guard(() => Task.FromResult<object>(inspector.Cluster.DownUnreachable())));
        api.MapGet("/actors", (string? path, int? depth) => Guard(async () => await inspector.Cluster.ActorTreeAsync(path, depth ?? 4).ConfigureAwait(false)));
        api.MapGet("/sharding/regions", () => Guard(() => Task.FromResult<object>(inspector.Sharding.Regions())));
        api.MapGet("/sharding/regions/{type}/stats", (string type) => Guard(async () => await inspector.Sharding.RegionStatsAsync(type).ConfigureAwait(false)));
        api.MapGet("/sharding/regions/{type}/locate", (string type, string? id) => Guard(async () => await inspector.Sharding.LocateAsync(type, Required(id, "id")).ConfigureAwait(false)));
        api.MapGet("/logs", (int? count, string? level) => Guard(() => Task.FromResult<object>(inspector.Logs.Logs(count ?? 50, level))));
        api.MapGet("/jobs", (string? repo, string? state, int? limit, long? before, CancellationToken ct) =>
            Guard(async () => await inspector.Jobs.JobsAsync(repo, state, Math.Clamp(limit ?? 50, 1, 1000), before, ct).ConfigureAwait(false)));
        api.MapGet("/jobs/{id}", (string id, CancellationToken ct) => Guard(async () =>
            await inspector.Jobs.JobAsync(long.TryParse(id, out var jobId) && jobId >= 0 ? jobId : throw new InspectionException(400, $"'{id}' is not a job id"), ct).ConfigureAwait(false)));
        api.MapGet("/repos", () => Guard(async () => await inspector.Jobs.ReposAsync().ConfigureAwait(false)));
        api.MapGet("/vms", () => Guard(async () => await inspector.Jobs.VmsAsync().ConfigureAwait(false)));
        api.MapGet("/ratelimit", () => Guard(() => Task.FromResult<object>(inspector.Jobs.RateLimit())));
        api.MapGet("/config", () => Guard(async () => await inspector.Jobs.ConfigAsync().ConfigureAwait(false)));
        app.MapFallback(() => Results.Json(new ErrorView("no such management route"), statusCode: 404));
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw new InspectionException(400, $"'{name}' is required") : value;

    /// <summary>Answers the view as JSON; a known refusal as its status, a node too busy to answer as 503.</summary>
    private static async Task<IResult> Guard(Func<Task<object>> answer)
    {
        try
        {
            var view = await answer().ConfigureAwait(false);
            return Results.Json(view); // declared object: serialized as its runtime type
        }
        catch (InspectionException e)
        {
            return Results.Json(new ErrorView(e.Message), statusCode: e.Status);
        }
        catch (AskTimeoutException e)
        {
            return Results.Json(new ErrorView($"the node did not answer in time: {e.Message}"), statusCode: 503);
        }
    }
}

/// <summary>The endpoint could not start (address in use, not permitted): the controller stops with this one line.</summary>
public sealed class ManagementEndpointException(string message, Exception inner) : InvalidOperationException(message, inner);

/// <summary>Registers metrics, the log ring and the management endpoint; the caller adds the endpoint as a hosted service after the actor system.</summary>
public static class InspectionServiceExtensions
{
    public static IServiceCollection AddInspection(this IServiceCollection services, InspectionOptions options)
    {
        services.AddSingleton(options);
        services.AddMetrics();
        services.AddSingleton(sp => new BlipMetrics(sp.GetRequiredService<IMeterFactory>()));
        services.AddSingleton<LogRing>();
        services.AddSingleton<ILoggerProvider>(sp => sp.GetRequiredService<LogRing>());
        services.AddSingleton<NodeInspector>();
        services.AddSingleton(sp => new ManagementEndpoint(options.Management, sp.GetRequiredService<NodeInspector>(), sp.GetRequiredService<ILogger<ManagementEndpoint>>()));
        return services;
    }
}
