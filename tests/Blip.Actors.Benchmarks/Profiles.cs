namespace Blip.Actors.Benchmarks;

/// <summary>A controller configuration, expressed only in <c>Blip__*</c> settings.</summary>
/// <param name="PollInterval">The poll floor it runs with (pickup waits a random fraction of it before queueing).</param>
/// <param name="PollsInProgressRuns">Whether it also lists in_progress, waiting and pending runs (not only queued ones).</param>
public sealed record Profile(string Name, string Description, TimeSpan PollInterval, bool PollsInProgressRuns, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>The controller's defaults (BlipOptions), spelled out: the sandbox's own demo settings are faster.</summary>
    public static readonly Profile Default = new(
        "default",
        "the controller's defaults: 2 s poll floor (200 ms spacing per repo), queued runs every poll and in_progress/waiting/pending every 15th, conditional requests, runner check every 15 s, idle runner removed after 30 s",
        TimeSpan.FromSeconds(2),
        true,
        new Dictionary<string, string>
        {
            ["Blip__PollInterval"] = "00:00:02",
            ["Blip__RunnerCheckInterval"] = "00:00:15",
            ["Blip__IdleRunnerGrace"] = "00:00:30",
        });

    /// <summary>The upstream Go controller's behaviour: a 10 s poll of queued runs on every repo (no spacing),
    /// no ETags, a runner/job status GET every 15 s per running job.</summary>
    public static readonly Profile Upstream = new(
        "upstream",
        "the Go controller's behaviour: 10 s poll of queued runs only, no spacing by repo count, no conditional requests, runner check every 15 s",
        TimeSpan.FromSeconds(10),
        false,
        new Dictionary<string, string>
        {
            ["Blip__PollInterval"] = "00:00:10",
            ["Blip__PollInProgressRuns"] = "false",
            ["Blip__ConditionalRequests"] = "false",
            ["Blip__RunnerCheckInterval"] = "00:00:15",
            ["Blip__PollSpacingPerRepo"] = "00:00:00",
            ["Blip__IdleRunnerGrace"] = "00:02:00",
        });

    /// <summary>The defaults plus webhooks: the GitHub emulator delivers signed <c>workflow_job</c> events to the
    /// controller's receiver (<see cref="BenchWorld"/> wires the loopback URL and the <c>github-webhook</c> Secret).</summary>
    public static readonly Profile Webhooks = Default with
    {
        Name = "webhooks",
        Description = "the controller's defaults plus workflow_job webhooks from the GitHub emulator to the controller's receiver (polling becomes the 30 s backstop once deliveries arrive)",
        ReceivesWebhooks = true,
    };

    /// <summary>The profiles every scenario runs; a scenario may add more (<see cref="Scenarios.Scenario.Profiles"/>).</summary>
    public static readonly IReadOnlyList<Profile> All = [Default, Upstream];

    /// <summary>Whether the world delivers webhooks to this controller.</summary>
    public bool ReceivesWebhooks { get; init; }

    /// <summary>The runs listings of a repo's first poll: every polled run status (later polls list the queued runs, and the
    /// others only every <c>Blip:PollInProgressEvery</c>-th poll).</summary>
    public int GetsPerIdlePoll => PollsInProgressRuns ? Blip.Actors.GitHub.DiscoveryPlan.AllStatuses.Count : 1;

    /// <summary>The longest a VM may stay claimed after its job ended, by design: a runner left idle by a job swap
    /// (GitHub gave its job to another runner) is found at the next runner check and removed after the grace.</summary>
    public TimeSpan IdleRunnerHorizon => Setting("Blip__RunnerCheckInterval") + Setting("Blip__IdleRunnerGrace");

    /// <summary>--quick: a job-swap's idle runner is cleaned in seconds, so the leak check need not wait minutes.</summary>
    public static readonly IReadOnlyDictionary<string, string> QuickOverrides = new Dictionary<string, string>
    {
        ["Blip__RunnerCheckInterval"] = "00:00:05",
        ["Blip__IdleRunnerGrace"] = "00:00:05",
    };

    private TimeSpan Setting(string key) => TimeSpan.Parse(Settings[key], System.Globalization.CultureInfo.InvariantCulture);

    public Profile With(IReadOnlyDictionary<string, string> extra)
    {
        var settings = new Dictionary<string, string>(Settings);
        foreach (var (k, v) in extra)
        {
            settings[k] = v;
        }

        return this with { Settings = settings };
    }
}
