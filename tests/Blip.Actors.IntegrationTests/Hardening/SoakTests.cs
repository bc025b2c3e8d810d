using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;
using Xunit.Abstractions;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>A bounded soak: a minute of continuous jobs over several repos with random faults, then the invariants,
/// flat memory and no leaked processes or file descriptors. Memory grows while finished jobs' tombstones pile up and
/// levels off once the first ones passivate (30 s idle): "flat" is judged over the second half of the minute.</summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    /// <summary>How long jobs keep arriving: the soak's length (memory is judged over its second half), pacing.</summary>
    private static readonly TimeSpan SoakLength = TimeSpan.FromSeconds(60);

    /// <summary>Arrivals follow the controller's runs listings (four per repo and poll, five repos): the next job comes after
    /// 4–9 more, at random — about two jobs a second on an idle machine, fewer on a slow one, where the controller polls
    /// less often. The workload keeps pace with the controller instead of the clock.</summary>
    private static readonly (int Min, int Max) ListingsBetweenArrivals = (4, 10);

    private const string RunsList = "GET /repos/{o}/{r}/actions/runs";

    private static async Task<int> RunsListingsAsync(PipelineWorld world) =>
        (await world.GitHub.GetStatsAsync()).ByEndpoint.GetValueOrDefault(RunsList)?.Total ?? 0;

    private static long RssKb(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    private static int OpenFds(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    private static int Sshds(string stateDir) =>
        Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsDigit))
            .Count(pid =>
            {
                try
                {
                    var cmd = File.ReadAllText($"/proc/{pid}/cmdline");
                    return cmd.Contains("sshd", StringComparison.Ordinal) && cmd.Contains(stateDir, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
            });

    [Fact]
    public async Task A_minute_of_jobs_with_random_faults_keeps_every_invariant_flat_memory_and_leaks_nothing()
    {
        var repos = Enumerable.Range(0, 5).Select(i => $"soak/r{i}").ToArray();
        await using var world = await PipelineWorld.StartAsync(vms: 4, repos: repos);
        // A registration whose runner never started and whose delete met an injected fault is an orphan; the sweeper is
        // what removes those (Blip:RunnerSweepInterval, Blip:OrphanRunnerGrace), here at test pace.
        var controller = await world.StartControllerProcessAsync(new Dictionary<string, string>
        {
            ["Blip__RunnerSweepInterval"] = "00:00:01",
            ["Blip__OrphanRunnerGrace"] = "00:00:03",
        });
        try
        {
            await world.GitHub.SetFaultsAsync(new SandboxFaults(Endpoints: [new EndpointFault("*", ErrorRate: 0.1, Status: 502)]));
            var random = new Random(7);
            var jobs = new List<long>();
            long? rssStart = null;
            var fdsStart = 0;
            var began = DateTime.UtcNow;
            var samples = new List<(TimeSpan At, long RssKb)>();
            var until = DateTime.UtcNow + SoakLength;
            var round = 0;
            while (DateTime.UtcNow < until)
            {
                jobs.Add((await world.GitHub.QueueJobAsync(repos[random.Next(repos.Length)], ["self-hosted", "blip"], random.Next(1, 3))).JobId);
                if (++round % 10 == 0)
                {
                    world.Sandbox.Kube.Store.DropWatches();
                }

                if (round == 10)
                {
                    rssStart = RssKb(controller.Pid);
                    fdsStart = OpenFds(controller.Pid);
                }

                if (round % 6 == 0)
                {
                    samples.Add((DateTime.UtcNow - began, RssKb(controller.Pid)));
                }

                var listings = await RunsListingsAsync(world) + random.Next(ListingsBetweenArrivals.Min, ListingsBetweenArrivals.Max);
                await Deadline.UntilAsync(() => RunsListingsAsync(world), n => n >= listings, PipelineWorld.Deadline, "the controller listing runs");
            }

            await world.GitHub.SetFaultsAsync(SandboxFaults.None);
            await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

            var rssEnd = RssKb(controller.Pid);
            var fdsEnd = OpenFds(controller.Pid);
            var steady = samples.First(x => x.At >= TimeSpan.FromSeconds(40)).RssKb;
            output.WriteLine("controller RSS over the minute: " + string.Join(" ", samples.Select(x => $"{x.At.TotalSeconds:F0}s:{x.RssKb / 1024}MB")));
            output.WriteLine($"soak: {jobs.Count} jobs; controller RSS {rssStart / 1024} MB at 5 s, {steady / 1024} MB at 40 s, {rssEnd / 1024} MB at the end; fds {fdsStart} → {fdsEnd}; sshd {Sshds(world.StateDir)}");
            Assert.True(rssEnd < (steady * 1.15) + 10_000, $"RSS still growing over the second half: {steady} kB at 40 s, {rssEnd} kB at the end");
            Assert.True(fdsEnd < fdsStart + 30, $"file descriptors grew from {fdsStart} to {fdsEnd}");
            await Deadline.UntilAsync(() => Sshds(world.StateDir) == 4, PipelineWorld.Deadline, "one sshd per pool VM, none leaked");
        }
        finally
        {
            await controller.DisposeAsync();
        }
    }
}
