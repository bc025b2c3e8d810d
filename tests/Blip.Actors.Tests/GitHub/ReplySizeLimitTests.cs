using System.Net;
using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class ReplySizeLimitTests
{
    private sealed class Replying(Func<HttpContent> content) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content() });
    }

    /// <summary>A body of unknown length (no Content-Length), as a chunked reply.</summary>
    private sealed class Unsized(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static Task<HttpResponseMessage> GetAsync(long limit, Func<HttpContent> content)
    {
        var client = new HttpClient(new ReplySizeLimit(limit) { InnerHandler = new Replying(content) });
        return client.GetAsync(new Uri("http://127.0.0.1/x"), HttpCompletionOption.ResponseHeadersRead);
    }

    [Fact]
    public async Task A_body_within_the_limit_arrives_whole_with_its_content_type()
    {
        using var response = await GetAsync(10, () => new StringContent("{\"a\":1}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal("{\"a\":1}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused()
    {
        var e = await Assert.ThrowsAsync<ReplyTooLargeException>(() => GetAsync(4, () => new ByteArrayContent(new byte[5])));
        Assert.Equal(4, e.MaxBytes);
    }

    [Fact]
    public async Task An_undeclared_body_over_the_limit_is_refused_while_reading()
    {
        await Assert.ThrowsAsync<ReplyTooLargeException>(() => GetAsync(100_000, () => new Unsized(new byte[200_000])));
        using var fits = await GetAsync(100_000, () => new Unsized(new byte[100_000]));
        Assert.Equal(100_000, (await fits.Content.ReadAsByteArrayAsync()).Length);
    }
}
