using System.Globalization;
using System.Text;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// <c>GET /api/v1/namespaces/NS/pods/NAME/log</c> for the pods <see cref="ControllerPods"/> publishes: the container's log
/// as text/plain with the kubelet's parameters <c>container</c>, <c>tailLines</c>, <c>sinceSeconds</c>, <c>sinceTime</c>,
/// <c>timestamps</c>, <c>limitBytes</c> and <c>follow</c> (streams new lines until the process exits or the client goes).
/// </summary>
public sealed partial class KubeApiEmulator
{
    private static readonly TimeSpan LogPollInterval = TimeSpan.FromMilliseconds(200);

    private async Task ServeLogAsync(HttpContext ctx, string ns, string name)
    {
        var q = ctx.Request.Query;
        var pod = Store.Get(KubeResource.Pods, ns, name);
        var containers = (pod["spec"]?["containers"]?.AsArray() ?? []).Select(c => c?["name"]?.ToString() ?? "").ToList();
        var container = q["container"].ToString();
        if (container.Length == 0)
        {
            container = containers.Count == 1
                ? containers[0]
                : throw KubeApiException.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(' ', containers)}]");
        }
        else if (!containers.Contains(container))
        {
            throw KubeApiException.BadRequest($"container {container} is not valid for pod {name}");
        }

        if (Flag(q, "previous"))
        {
            throw KubeApiException.BadRequest($"previous terminated container \"{container}\" in pod \"{name}\" not found");
        }

        var log = ControllerPods.LogOf(ns, name) ?? throw KubeApiException.BadRequest(
            $"container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating");
        var tail = Number(q, "tailLines");
        var limit = Number(q, "limitBytes");
        var since = Number(q, "sinceSeconds") is { } seconds ? DateTimeOffset.UtcNow.AddSeconds(-seconds) : (DateTimeOffset?)null;
        if (q["sinceTime"].ToString() is { Length: > 0 } sinceTime)
        {
            since = DateTimeOffset.TryParse(sinceTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : throw KubeApiException.BadRequest($"sinceTime: invalid value \"{sinceTime}\": not an RFC 3339 time");
        }

        var timestamps = Flag(q, "timestamps");
        var started = DateTimeOffset.TryParse(pod["status"]?["startTime"]?.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s)
            ? s
            : DateTimeOffset.UtcNow;

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain";
        var reader = new LogReader(log, started);
        var lines = reader.ReadLines(final: !Flag(q, "follow"))
            .Where(l => since is null || l.At >= since)
            .ToList();
        var budget = limit ?? long.MaxValue;
        budget = await WriteLogLinesAsync(ctx, tail is { } n ? lines.TakeLast((int)Math.Min(n, int.MaxValue)) : lines, timestamps, budget);
        if (!Flag(q, "follow"))
        {
            return;
        }

        while (budget > 0 && !ctx.RequestAborted.IsCancellationRequested)
        {
            var running = Store.TryGet(KubeResource.Pods, ns, name)?["status"]?["phase"]?.ToString() == "Running";
            var fresh = reader.ReadLines(final: !running);
            budget = await WriteLogLinesAsync(ctx, fresh, timestamps, budget);
            if (!running)
            {
                return;
            }

            await Task.Delay(LogPollInterval, ctx.RequestAborted);
        }
    }

    private static async Task<long> WriteLogLinesAsync(HttpContext ctx, IEnumerable<LogLine> lines, bool timestamps, long budget)
    {
        foreach (var line in lines)
        {
            var text = timestamps ? $"{line.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)} {line.Text}\n" : line.Text + "\n";
            var bytes = Encoding.UTF8.GetBytes(text);
            var take = (int)Math.Min(bytes.Length, budget);
            await ctx.Response.Body.WriteAsync(bytes.AsMemory(0, take), ctx.RequestAborted);
            budget -= take;
            if (budget <= 0)
            {
                break;
            }
        }

        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
        return budget;
    }

    private static bool Flag(IQueryCollection q, string key) => q[key].ToString() is "true" or "1";

    private static long? Number(IQueryCollection q, string key) =>
        q[key].ToString() is not { Length: > 0 } text ? null
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n
        : throw KubeApiException.BadRequest($"{key}: invalid value \"{text}\": must be a non-negative integer");

    private sealed record LogLine(DateTimeOffset At, string Text);

    /// <summary>Reads a log file from an offset on, line by line, remembering where it stopped. A line's time is the
    /// timestamp it starts with (the controller stamps its lines); a line without one (a stack trace) takes the one before.</summary>
    private sealed class LogReader(PodLog log, DateTimeOffset started)
    {
        private long _offset = log.Start;
        private DateTimeOffset _last = started;

        /// <summary>The complete lines written since the last call; with <paramref name="final"/> an unterminated last line too.</summary>
        public IReadOnlyList<LogLine> ReadLines(bool final)
        {
            string text;
            try
            {
                using var stream = new FileStream(log.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                stream.Seek(Math.Min(_offset, stream.Length), SeekOrigin.Begin);
                var buffer = new byte[stream.Length - stream.Position];
                stream.ReadExactly(buffer);
                var end = final ? buffer.Length : Array.LastIndexOf(buffer, (byte)'\n') + 1;
                _offset += end;
                text = Encoding.UTF8.GetString(buffer, 0, end);
            }
            catch (FileNotFoundException)
            {
                return [];
            }

            var lines = new List<LogLine>();
            if (text.Length == 0)
            {
                return lines;
            }

            var parts = text.Split('\n');
            foreach (var raw in text.EndsWith('\n') ? parts[..^1] : parts)
            {
                var line = raw.TrimEnd('\r');
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                // An RFC 3339 time first ("2026-11-30T20:31:24.542Z info: ..."), nothing that merely parses as a date.
                if (space > 10 && char.IsAsciiDigit(line[0]) && line[4] == '-' && line[10] == 'T'
                    && DateTimeOffset.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                {
                    _last = at;
                }

                lines.Add(new LogLine(_last, line));
            }

            return lines;
        }
    }
}
