using Akka.DependencyInjection;
using Blip.Actors.Inspection;
using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>
/// One sandbox with a controller whose management endpoint listens on a free loopback port, shared by the
/// tests of a class: the endpoint becomes ready, the metrics are read, then one job flows through to Done.
/// </summary>
public sealed class InspectedWorld : IAsyncLifetime
{
    private PipelineWorld? _world;

    public PipelineWorld World => _world ?? throw new InvalidOperationException("not started");

    public Uri Endpoint { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(20) };

    /// <summary>/metrics once the node was ready, before any job.</summary>
    public PrometheusText MetricsBefore { get; private set; } = null!;

    public long JobId { get; private set; }

    public async Task InitializeAsync()
    {
        _world = await PipelineWorld.StartAsync(vms: 2);
        var controller = await _world.StartControllerAsync();
        Endpoint = DependencyResolver.For(controller.ActorSystem).Resolver.GetService<ManagementEndpoint>().Address
            ?? throw new InvalidOperationException("the management endpoint did not start");
        await Deadline.UntilAsync(async () => (int)(await Http.GetAsync(new Uri(Endpoint, "/healthz/ready"))).StatusCode, s => s == 200, PipelineWorld.Deadline, "/healthz/ready is 200");
        MetricsBefore = await PrometheusText.ParseAsync(await Http.GetStringAsync(new Uri(Endpoint, "/metrics")));

        var job = await _world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], 1);
        JobId = job.JobId;
        await _world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed by our runner");
        await Deadline.UntilAsync(
            async () => await Blipctl.RunAsync("jobs", "show", JobId.ToString(), "--endpoint", Endpoint.ToString()),
            r => r.ExitCode == 0 && r.Stdout.Contains("Phase: Done", StringComparison.Ordinal),
            PipelineWorld.Deadline,
            $"job {JobId} done in the controller's journal");
    }

    public async Task<Blipctl.Result> CtlAsync(params string[] args) => await Blipctl.RunAsync([.. args, "--endpoint", Endpoint.ToString()]);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_world is not null)
        {
            await _world.DisposeAsync();
        }
    }
}
