using Blip.Sandbox.Shared;

namespace Blip.Actors.Benchmarks.Scenarios;

/// <summary>
/// One repo, ready VMs, jobs queued one at a time (each after the previous one started), each after a random
/// wait of up to one poll interval (none in --quick) of the profile so the queue time falls anywhere in the poll cycle.
/// Latency = startedAt − queuedAt, both from the GitHub emulator (the fake runner taking the job).
/// </summary>
public sealed class PickupScenario : Scenario
{
    private const string Repo = "bench-org/pickup";

    public override string Name => "pickup";

    public override string Description =>
        "1 repo, ready VMs; jobs queued one at a time, each after the previous started and a random wait within one poll interval; latency = startedAt − queuedAt (emulator clock)";

    /// <summary>Pickup is where webhooks matter: a third run with them on.</summary>
    public override IReadOnlyList<Profile> Profiles => [Profile.Default, Profile.Upstream, Profile.Webhooks];

    // 30 in full mode: with 10 the p50 ratio to upstream moved between 0.20 and 0.41 from run to run (issue 15).
    private static int Jobs(bool quick) => quick ? 1 : 30;
    private static int Vms(bool quick) => quick ? 3 : 4;

    public override Dictionary<string, string> Sizes(bool quick) => new()
    {
        ["jobs"] = Jobs(quick).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["vms"] = Vms(quick).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["job_duration_s"] = "1",
    };

    public override async Task RunAsync(BenchContext context, Profile profile, ProfileResult result, CancellationToken ct)
    {
        await using var world = await BenchWorld.StartAsync(context.StateRoot, Name, profile, Vms(context.Quick), [Repo], ct);
        context.Say(Name, profile, $"controller pid {world.Controller.Pid} joined; waiting for its first poll");
        await Deadline.UntilAsync(() => world.GitHub.GetStatsAsync(ct), s => s.Total >= profile.GetsPerIdlePoll, TimeSpan.FromSeconds(60), "the first poll", ct);

        // Same seed for every profile: the same sequence of fractions of the poll interval.
        var random = new Random(20261127);
        var latencies = new List<double>();
        var jobs = Jobs(context.Quick);
        for (var i = 0; i < jobs; i++)
        {
            var wait = random.NextDouble() * profile.PollInterval;
            if (!context.Quick)
            {
                await Task.Delay(wait, ct);
            }

            var queued = await world.GitHub.QueueJobAsync(Repo, BenchWorld.RunnerLabels, durationSeconds: 1, ct);
            var job = await Deadline.UntilAsync(() => world.GitHub.GetJobAsync(queued.JobId, ct), j => j?.StartedAt is not null,
                TimeSpan.FromSeconds(120), $"job {queued.JobId} to start", ct, TimeSpan.FromMilliseconds(50));
            var latency = (job!.StartedAt!.Value - job.QueuedAt).TotalSeconds;
            latencies.Add(latency);
            context.Say(Name, profile, $"job {i + 1}/{jobs} (id {job.JobId}) started after {latency:F2} s");
        }

        await Deadline.UntilAsync(() => world.GitHub.ListJobsAsync(ct: ct), js => js.All(j => j.Status == "completed"), TimeSpan.FromSeconds(120), "every job to complete", ct);
        result.Figures[Figure.Jobs] = jobs;
        if (profile.ReceivesWebhooks)
        {
            // A failed delivery is a pickup left to the backstop poll: it shows here, not only as a slow percentile.
            result.Figures["webhooks_delivered"] = world.World.GitHub.WebhooksDelivered;
            result.Figures["webhooks_failed"] = world.World.GitHub.WebhooksFailed;
        }

        Stats.AddPickup(result, latencies);
        await RecordInvariantsAsync(context, world, Name, result, ct);
        RecordController(world, result);
        result.ControllerLog = world.KeepLog(context.OutDir, Name);
    }
}
