using System.Globalization;
using Blip.Actors.Inspection;

namespace Blip.Ctl;

/// <summary>Runs one parsed command against the endpoint and prints its answer.</summary>
public static class Cli
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var parsed = CommandLine.Parse(args, environment);
        if (parsed.Help is not null)
        {
            await stdout.WriteAsync(parsed.Help).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        if (parsed.Error is not null)
        {
            await stderr.WriteLineAsync("blipctl: " + parsed.Error).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var globals = parsed.Globals!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var client = new ManagementClient(http, globals.Endpoint, globals.Token);
        try
        {
            await new Runner(client, parsed, globals.Output, stdout).RunAsync(ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (CtlException e)
        {
            await stderr.WriteLineAsync("blipctl: " + e.Message).ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitCodes.Ok; // Ctrl-C ends `cluster tail`
        }
    }

    private sealed class Runner(ManagementClient client, ParsedCommandLine parsed, OutputFormat output, TextWriter stdout)
    {
        public async Task RunAsync(CancellationToken ct)
        {
            switch (parsed.Command!.Name)
            {
                case "cluster show":
                    await Show<ClusterView>("/api/cluster", TextFormat.ClusterShow, ct);
                    break;
                case "cluster status":
                    await Show<ClusterView>("/api/cluster", TextFormat.ClusterStatus, ct);
                    break;
                case "cluster leader":
                    await Show<ClusterView>("/api/cluster", TextFormat.ClusterLeader, ct);
                    break;
                case "cluster leave":
                    await Show<ActionView>("/api/cluster/leave?address=" + Q("address"), TextFormat.Action, ct, HttpMethod.Post);
                    break;
                case "cluster down":
                    await Show<ActionView>("/api/cluster/down?address=" + Q("address"), TextFormat.Action, ct, HttpMethod.Post);
                    break;
                case "cluster down-unreachable":
                    await Show<ActionView>("/api/cluster/down-unreachable", TextFormat.Action, ct, HttpMethod.Post);
                    break;
                case "cluster tail":
                    await TailAsync(ct);
                    break;
                case "actor hierarchy":
                    await Show<ActorTreeView>($"/api/actors?path={Q("path", "/")}&depth={Q("depth", "4")}", t => TextFormat.Lines(t.Paths), ct);
                    break;
                case "cluster-sharding regions":
                    await Show<ShardingRegionsView>("/api/sharding/regions", r => TextFormat.Lines(r.Regions), ct);
                    break;
                case "cluster-sharding region-stats":
                    await Show<RegionStatsView>($"/api/sharding/regions/{P("region")}/stats", TextFormat.RegionStats, ct);
                    break;
                case "cluster-sharding shard-stats":
                    await Show<RegionStatsView>($"/api/sharding/regions/{P("region")}/stats", TextFormat.ShardStats, ct);
                    break;
                case "cluster-sharding locate":
                    await Show<LocateView>($"/api/sharding/regions/{P("region")}/locate?id={Q("id")}", TextFormat.Locate, ct);
                    break;
                case "log peek":
                    await Show<LogView>($"/api/logs?count={Q("count", "50")}" + (parsed.Option("level") is null ? "" : "&level=" + Q("level")), TextFormat.Logs, ct);
                    break;
                case "jobs list":
                    await Show<JobsView>("/api/jobs?" + string.Join("&", new[] { "repo", "state", "limit", "before" }.Where(o => parsed.Option(o) is not null).Select(o => $"{o}={Q(o)}")), TextFormat.Jobs, ct);
                    break;
                case "jobs show":
                    await Show<JobDetailView>("/api/jobs/" + Uri.EscapeDataString(parsed.Positionals[0]), TextFormat.Job, ct);
                    break;
                case "repos":
                    await Show<ReposView>("/api/repos", TextFormat.Repos, ct);
                    break;
                case "vms":
                    await Show<VmsView>("/api/vms", TextFormat.Vms, ct);
                    break;
                case "ratelimit":
                    await Show<RateLimitView>("/api/ratelimit", TextFormat.RateLimit, ct);
                    break;
                case "config show":
                    await Show<ConfigView>("/api/config", TextFormat.Config, ct);
                    break;
                default:
                    throw new CtlException(ExitCodes.Usage, $"'{parsed.Command.Name}' is not implemented");
            }
        }

        private async Task Show<T>(string path, Func<T, string> format, CancellationToken ct, HttpMethod? method = null)
        {
            var (raw, view) = await client.SendAsync<T>(method ?? HttpMethod.Get, path, ct);
            await stdout.WriteAsync(output == OutputFormat.Json ? ManagementClient.Pretty(raw) + "\n" : format(view));
            await stdout.FlushAsync(ct);
        }

        /// <summary>Prints the kept events, then polls for new ones once a second: one line per change (JSON: one object per line).
        /// <c>--duration</c> counts from when the kept events are printed: a slow endpoint must not use the whole watch up
        /// before the first answer, or a short tail prints nothing at all.</summary>
        private async Task TailAsync(CancellationToken ct)
        {
            var after = await PrintEventsAfterAsync(0, ct);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (parsed.Option("duration") is { } seconds)
            {
                stop.CancelAfter(TimeSpan.FromSeconds(int.Parse(seconds, CultureInfo.InvariantCulture)));
            }

            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stop.Token);
                    after = await PrintEventsAfterAsync(after, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                // --duration elapsed
            }
        }

        private async Task<long> PrintEventsAfterAsync(long after, CancellationToken ct)
        {
            var (_, events) = await client.SendAsync<ClusterEventsView>(HttpMethod.Get, $"/api/cluster/events?after={after}", ct);
            foreach (var e in events.Events)
            {
                await stdout.WriteAsync(output == OutputFormat.Json
                    ? System.Text.Json.JsonSerializer.Serialize(e, ManagementClient.Json) + "\n"
                    : TextFormat.ClusterEvent(e));
            }

            await stdout.FlushAsync(ct);
            return Math.Max(after, events.Last);
        }

        private string Q(string option, string? fallback = null) => Uri.EscapeDataString(parsed.Option(option) ?? fallback ?? "");

        private string P(string option) => Uri.EscapeDataString(parsed.Option(option)!);
    }
}
