using System.Globalization;

namespace Blip.Sandbox.GitHub;

// The protocol the fake runner (FakeRunnerScript) speaks: plain text, every secret in the request
// BODY so that none shows in a curl command line. Not GitHub: not in the stats.
//
//   POST /_runner/redeem    body "<runnerId> <secret> [<version>]"  200 "<session> <runnerName>" | 403 reason (single use;
//                           a version below the minimum: "Runner version vX is deprecated and cannot receive messages.")
//   POST /_runner/acquire   body "<session>"            200 "job <jobId> <durationSeconds>" | 204 none yet (long poll) | 410 runner gone
//   POST /_runner/status    body "<session>"            200 "running" | "cancelled" | "idle" | 410 runner gone
//   POST /_runner/complete  body "<session>"            200 "completed" | 409 "cancelled" | 410 runner gone
public sealed partial class GitHubEmulator
{
    private void MapRunnerProtocol(WebApplication app)
    {
        app.MapPost("/_runner/redeem", async (HttpContext http) =>
        {
            var parts = (await BodyAsync(http).ConfigureAwait(false)).Split(' ', 3);
            if (parts.Length < 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var runnerId))
            {
                return Results.Text("malformed jit config", statusCode: 400);
            }

            return _world.Redeem(runnerId, parts[1], parts.ElementAtOrDefault(2), out var sessionOrError, out var name)
                ? Results.Text($"{sessionOrError} {name}")
                : Results.Text(sessionOrError, statusCode: 403);
        });

        app.MapPost("/_runner/acquire", async (HttpContext http) =>
        {
            var session = await BodyAsync(http).ConfigureAwait(false);
            var deadline = DateTime.UtcNow + _options.RunnerLongPoll;
            while (true)
            {
                var outcome = _world.TryAcquire(session, out var job, out var changed);
                if (outcome == GitHubWorld.AcquireOutcome.Job)
                {
                    return Results.Text(string.Create(CultureInfo.InvariantCulture, $"job {job!.Id} {job.DurationSeconds}"));
                }

                if (outcome == GitHubWorld.AcquireOutcome.Gone)
                {
                    return Results.Text("runner gone", statusCode: 410);
                }

                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return Results.StatusCode(204);
                }

                await Task.WhenAny(changed, Task.Delay(left, http.RequestAborted)).ConfigureAwait(false);
                http.RequestAborted.ThrowIfCancellationRequested();
            }
        });

        app.MapPost("/_runner/status", async (HttpContext http) =>
            _world.JobStateForSession(await BodyAsync(http).ConfigureAwait(false)) is { } state
                ? Results.Text(state)
                : Results.Text("runner gone", statusCode: 410));

        app.MapPost("/_runner/complete", async (HttpContext http) =>
            _world.Complete(await BodyAsync(http).ConfigureAwait(false)) switch
            {
                GitHubWorld.CompleteOutcome.Completed => Results.Text("completed"),
                GitHubWorld.CompleteOutcome.Cancelled => Results.Text("cancelled", statusCode: 409),
                _ => Results.Text("runner gone", statusCode: 410),
            });
    }

    private static async Task<string> BodyAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var text = await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false);
        return text.Trim();
    }
}
