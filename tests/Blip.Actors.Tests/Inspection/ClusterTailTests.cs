extern alias blipctl;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Blip.Actors.Inspection;
using blipctl::Blip.Ctl;

namespace Blip.Actors.Tests.Inspection;

/// <summary><c>blipctl cluster tail</c> against a stand-in endpoint that answers slowly, as a loaded controller does.</summary>
public sealed class ClusterTailTests
{
    [Fact]
    public async Task The_kept_events_print_even_when_the_endpoint_answers_slower_than_the_duration()
    {
        var kept = new ClusterEventsView(1, [new ClusterEventView(1, DateTimeOffset.Parse("2026-01-01T00:00:00Z"), "MemberUp", "akka.tcp://blip@127.0.0.1:1", "Up roles=[controller]")]);
        using var endpoint = new SlowEndpoint(TimeSpan.FromSeconds(2), JsonSerializer.Serialize(kept, ManagementClient.Json));
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await Cli.RunAsync(["cluster", "tail", "--duration", "1", "--endpoint", endpoint.Url], new Dictionary<string, string?>(), stdout, stderr, CancellationToken.None);

        Assert.True(code == ExitCodes.Ok, $"exit {code}: {stderr}");
        Assert.Contains("MemberUp akka.tcp://blip@127.0.0.1:1 Up roles=[controller]", stdout.ToString());
    }

    /// <summary>Answers every GET with the same JSON after a delay.</summary>
    private sealed class SlowEndpoint : IDisposable
    {
        private readonly HttpListener _listener = new();

        public SlowEndpoint(TimeSpan delay, string json)
        {
            var port = FreePort();
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _ = ServeAsync(delay, Encoding.UTF8.GetBytes(json));
        }

        public string Url { get; }

        public void Dispose() => _listener.Close();

        private async Task ServeAsync(TimeSpan delay, byte[] body)
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    await Task.Delay(delay);
                    try
                    {
                        context.Response.ContentType = "application/json";
                        await context.Response.OutputStream.WriteAsync(body);
                        context.Response.Close();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
                    {
                        // The client gave up on this request.
                    }
                });
            }
        }

        private static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }
    }
}
