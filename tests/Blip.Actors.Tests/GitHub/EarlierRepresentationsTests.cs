using System.Net;
using System.Net.Http.Headers;
using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class EarlierRepresentationsTests
{
    private static readonly Uri Url = new("http://127.0.0.1/repos/o/r/actions/runs?status=queued");

    /// <summary>A server with one current body, answering If-None-Match as GitHub does (any listed tag, weak comparison).</summary>
    private sealed class Server : HttpMessageHandler
    {
        public string Body { get; set; } = "[]";
        public bool ETagOn304 { get; set; } = true;

        /// <summary>A server that compares the whole If-None-Match header with its one tag (no lists).</summary>
        public bool ReadsOneTagOnly { get; set; }
        public List<string?> IfNoneMatchSent { get; } = [];

        public static string Tag(string body) => $"W/\"{body.Length}-{string.Join("", body.Select(c => (int)c))}\"";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var sent = request.Headers.TryGetValues("If-None-Match", out var values) ? string.Join(", ", values) : null;
            IfNoneMatchSent.Add(sent);
            var tag = Tag(Body);
            var matches = ReadsOneTagOnly
                ? sent?.Replace("W/", "") == tag.Replace("W/", "")
                : sent?.Split(',', StringSplitOptions.TrimEntries).Any(s => s.Replace("W/", "") == tag.Replace("W/", "")) == true;
            var response = matches
                ? new HttpResponseMessage(HttpStatusCode.NotModified)
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Body, System.Text.Encoding.UTF8, "application/json") };
            if (!matches || ETagOn304)
            {
                response.Headers.ETag = EntityTagHeaderValue.Parse(tag);
            }

            return Task.FromResult(response);
        }
    }

    /// <summary>As Octokit's cache: the last ETag of the URL in If-None-Match, the cached body on a 304.</summary>
    private sealed class Client
    {
        private readonly HttpClient _http;

        public Client(Server server)
        {
            Handler = new EarlierRepresentations { InnerHandler = server };
            _http = new HttpClient(Handler);
        }

        public EarlierRepresentations Handler { get; }
        private (string Tag, string Body)? _cached;

        public async Task<(HttpStatusCode Status, string Body)> GetAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Url);
            if (_cached is { } cached)
            {
                request.Headers.TryAddWithoutValidation("If-None-Match", cached.Tag);
            }

            using var response = await _http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                return (response.StatusCode, _cached!.Value.Body);
            }

            var body = await response.Content.ReadAsStringAsync();
            _cached = (response.Headers.ETag!.ToString(), body);
            return (response.StatusCode, body);
        }
    }

    [Fact]
    public async Task A_listing_back_at_an_earlier_body_is_a_304_handed_on_as_that_body()
    {
        var server = new Server();
        var client = new Client(server);
        await client.GetAsync();
        server.Body = "[run]";
        Assert.Equal((HttpStatusCode.OK, "[run]"), await client.GetAsync());

        server.Body = "[]";
        var back = await client.GetAsync();

        Assert.Equal((HttpStatusCode.OK, "[]"), back);
        Assert.Equal($"{Server.Tag("[run]")}, {Server.Tag("[]")}", server.IfNoneMatchSent[^1]);
        Assert.Equal((HttpStatusCode.NotModified, "[]"), await client.GetAsync()); // and Octokit's cache now holds "[]"
    }

    [Fact]
    public async Task A_new_body_is_a_200_and_a_request_without_If_None_Match_is_left_alone()
    {
        var server = new Server();
        var client = new Client(server);
        await client.GetAsync();
        server.Body = "[run]";
        await client.GetAsync();

        server.Body = "[other]";

        Assert.Equal((HttpStatusCode.OK, "[other]"), await client.GetAsync());
        Assert.Null(server.IfNoneMatchSent[0]);
    }

    [Fact]
    public async Task A_304_without_an_ETag_is_asked_again_with_the_last_tag_alone()
    {
        var server = new Server { ETagOn304 = false };
        var client = await AfterEmptyThenOneRunAsync(server);
        server.Body = "[]";

        var back = await client.GetAsync();

        Assert.Equal((HttpStatusCode.OK, "[]"), back);
        Assert.Equal(Server.Tag("[run]"), server.IfNoneMatchSent[^1]);
    }

    [Fact]
    public async Task Large_bodies_are_not_remembered()
    {
        var remembering = new EarlierRepresentations(maxBodyBytes: 10) { InnerHandler = new Server { Body = new string('x', 100) } };
        using var http = new HttpClient(remembering);

        using var large = await http.GetAsync(Url);

        Assert.Equal(HttpStatusCode.OK, large.StatusCode);
        Assert.Equal(0, remembering.Count);
    }

    [Fact]
    public async Task A_server_that_does_not_read_tag_lists_costs_one_request_then_gets_the_single_tag_again()
    {
        var server = new Server { ReadsOneTagOnly = true };
        var client = await AfterEmptyThenOneRunAsync(server);

        // The list names the current tag, but this server compares the whole header: 200, and lists go off.
        Assert.Equal((HttpStatusCode.OK, "[run]"), await client.GetAsync());
        Assert.Contains(",", server.IfNoneMatchSent[^1], StringComparison.Ordinal);
        Assert.True(client.Handler.ListsIgnored);

        Assert.Equal((HttpStatusCode.NotModified, "[run]"), await client.GetAsync());
        Assert.Equal(Server.Tag("[run]"), server.IfNoneMatchSent[^1]);
    }

    /// <summary>A client that listed an empty list, then one run (the server's body is then "[run]").</summary>
    private static async Task<Client> AfterEmptyThenOneRunAsync(Server server)
    {
        var client = new Client(server);
        await client.GetAsync();
        server.Body = "[run]";
        await client.GetAsync();
        return client;
    }
}
