using System.Buffers;

namespace Blip.Actors.GitHub;

/// <summary>
/// Refuses a reply body larger than <paramref name="maxBytes"/> before Octokit reads it into one string: at once when
/// Content-Length says so, else while reading, so a runaway reply costs at most that much memory. The body read is
/// handed on buffered.
/// </summary>
public sealed class ReplySizeLimit(long maxBytes) : DelegatingHandler
{
    public long MaxBytes { get; } = maxBytes;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var content = response.Content;
        if (content.Headers.ContentLength is { } length && length > MaxBytes)
        {
            response.Dispose();
            throw new ReplyTooLargeException(MaxBytes);
        }

        var body = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (body.Length + read > MaxBytes)
                    {
                        response.Dispose();
                        throw new ReplyTooLargeException(MaxBytes);
                    }

                    body.Write(chunk, 0, read);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        var buffered = new ByteArrayContent(body.ToArray());
        foreach (var (name, values) in content.Headers)
        {
            buffered.Headers.TryAddWithoutValidation(name, values);
        }

        buffered.Headers.ContentLength = body.Length;
        response.Content = buffered;
        content.Dispose();
        return response;
    }
}

/// <summary>A reply body over <see cref="ReplySizeLimit"/>'s limit.</summary>
public sealed class ReplyTooLargeException(long maxBytes) : Exception($"the reply is larger than {maxBytes / (1024 * 1024)} MiB")
{
    public long MaxBytes { get; } = maxBytes;
}
