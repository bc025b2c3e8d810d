using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Blip.Actors.Hosting;
using Blip.Actors.Inspection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>A configured token is required on every route but the probes (here on loopback, the only bind a test can make).</summary>
public sealed class ManagementTokenTests : IAsyncLifetime
{
    private const string Token = "inspection-test-token";
    private readonly ActorSystem _system = ActorSystem.Create("token-test");
    private ManagementEndpoint _endpoint = null!;
    private LogRing _logs = null!;

    public async Task InitializeAsync()
    {
        var options = new BlipOptions { ManagementUrl = "http://127.0.0.1:0", ManagementToken = Token };
        var metrics = new BlipMetrics();
        _logs = new LogRing(metrics);
        _logs.CreateLogger("test").LogInformation("hello from the ring");
        var inspector = new NodeInspector(_system, new ActorRegistry(), options.ForInspection(), metrics, _logs);
        _endpoint = new ManagementEndpoint(ManagementBinding.Parse(options.ManagementUrl, options.ManagementToken, out _), inspector, NullLogger<ManagementEndpoint>.Instance);
        await _endpoint.StartAsync(CancellationToken.None);
    }

    [Fact]
    public async Task No_token_or_a_wrong_token_exits_4_and_the_right_token_answers()
    {
        var endpoint = _endpoint.Address!.ToString();

        var none = await Blipctl.RunAsync("log", "peek", "--endpoint", endpoint);
        var wrong = await Blipctl.RunAsync("log", "peek", "--endpoint", endpoint, "--token", "not-" + Token);
        var right = await Blipctl.RunAsync("log", "peek", "--endpoint", endpoint, "--token", Token);

        Assert.Equal(4, none.ExitCode);
        Assert.StartsWith("blipctl: unauthorized: the endpoint at", none.Stderr);
        Assert.Contains("needs a token", none.Stderr);
        Assert.Equal(4, wrong.ExitCode);
        Assert.Contains("refused the token", wrong.Stderr);
        Assert.True(right.ExitCode == 0, right.ToString());
        Assert.Contains("hello from the ring", right.Stdout);
    }

    [Fact]
    public async Task Probes_need_no_token_but_metrics_do()
    {
        using var http = new HttpClient();

        var live = await http.GetAsync(new Uri(_endpoint.Address!, "/healthz/live"));
        var metrics = await http.GetAsync(new Uri(_endpoint.Address!, "/metrics"));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
    }

    public async Task DisposeAsync()
    {
        await _endpoint.StopAsync(CancellationToken.None);
        await _endpoint.DisposeAsync();
        await _system.Terminate();
    }
}
