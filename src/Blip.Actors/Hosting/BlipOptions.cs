namespace Blip.Actors.Hosting;

/// <summary>Everything the controller can be told, bound from the <c>Blip:</c> configuration section
/// (<c>Blip__Namespace</c> and so on as environment variables). <see cref="Validate"/> names each bad value.</summary>
public sealed partial class BlipOptions
{
    public const string Section = "Blip";

    /// <summary>The spec's hard cap from claim to release (runnerMaxTTL): <see cref="MaxDurationSeconds"/> may lower it, never raise it.</summary>
    public const int SpecMaxDurationSeconds = Jobs.JobOptions.SpecMaxDurationSeconds;

    /// <summary>Where a pod finds its own namespace (the service account's projected volume).</summary>
    public const string ServiceAccountNamespaceFile = Kubernetes.KubernetesOptions.ServiceAccountNamespaceFile;

    /// <summary>Namespace of the Secrets, the ConfigMap and the VMs. Default: the pod's own namespace (in a pod),
    /// else <c>blip</c>.</summary>
    public string Namespace { get; set; } = DefaultNamespace(ServiceAccountNamespaceFile);

    /// <summary>The VM pool: VMs labelled <c>blip.io/pool=&lt;Pool&gt;</c>.</summary>
    public string Pool { get; set; } = "blip";

    /// <summary>GitHub REST API root; GitHub Enterprise Server: <c>https://HOST/api/v3/</c>. TLS is always verified; plain
    /// http only to a loopback host (the sandbox).</summary>
    public string GitHubApiUrl { get; set; } = "https://api.github.com/";

    public string SshUser { get; set; } = "runner";
    public int SshPort { get; set; } = 22;
    public string RunnerDir { get; set; } = "/home/runner/actions-runner";

    /// <summary>Runners older than this (<c>2.330.0</c>) are not started: a <c>runner_outdated</c> configuration fault, as
    /// when GitHub refuses them. Empty: off (GitHub's own refusal is still recognised).</summary>
    public string RunnerMinimumVersion { get; set; } = "";

    /// <summary>How often GitHub's actions/runner releases are read and the runner version started last is assessed
    /// against them (a warning a week before GitHub's 30-day window to update closes). Zero: off.</summary>
    public TimeSpan RunnerReleaseCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many SSH attempts on one VM before its registration is deleted and another VM claimed.</summary>
    public int SshAttempts { get; set; } = 4;

    /// <summary>How many VMs one job may give up over its life (SSH failures, VMs lost before the runner started); then the
    /// job fails instead of claiming more. A configuration fault holds VMs rather than giving them up, so it does not count.</summary>
    public int MaxVmsGivenUpPerJob { get; set; } = 5;

    /// <summary>The floor of each repo's poll interval.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary><c>blip.io/max-duration</c>: the hard cap from claim to release (the spec's runnerMaxTTL); at most 1800.</summary>
    public int MaxDurationSeconds { get; set; } = SpecMaxDurationSeconds;

    /// <summary>A runner left idle (its trigger job was taken elsewhere or cancelled) is removed after this, freeing its VM.
    /// Short, because GitHub swaps jobs between matching runners all the time and an idle runner holds a VM other
    /// jobs wait for (the benchmark's burst stalled for 85 s with 2 min here).</summary>
    public TimeSpan IdleRunnerGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running job checks its runner when no free signal (VM stopped, webhook) has arrived.
    /// A 304 is free: an unchanged runner costs nothing.</summary>
    public TimeSpan RunnerCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A job still claiming a VM gives up when no poll has seen it queued for this long.</summary>
    public TimeSpan QueuedSightingTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A job waiting for a VM longer than this gets one Warning line and one Warning event on the VM pool naming
    /// why (no VM claimable, claims failing, or VMs claimable but not claimed).</summary>
    public TimeSpan StuckJobAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a finished job's events are kept; then deleted, and a sighting of a job queued longer ago is ignored.</summary>
    public TimeSpan JobRetention { get; set; } = Jobs.JobRetention.Default;

    /// <summary>Send If-None-Match with every GET (a 304 is free). Off only to measure what it saves.</summary>
    public bool ConditionalRequests { get; set; } = true;

    /// <summary>Also look for queued jobs inside in_progress runs (needs:, matrix legs, re-runs). Off only to mimic upstream.</summary>
    public bool PollInProgressRuns { get; set; } = true;

    /// <summary>Every poll lists the queued runs; every this-many-th poll also the in_progress, waiting and pending ones (a
    /// job queued inside a running run is found within two such cycles; a webhook finds it at once).</summary>
    public int PollInProgressEvery { get; set; } = GitHub.GitHubOptions.DefaultPollInProgressEvery;

    /// <summary>Each poller waits at least this per configured repo between polls, so the cluster's discovery stays
    /// under GitHub's secondary limit (900 points per minute) however many repos there are: a poll lists the queued runs
    /// and reads the runs holding queued jobs, and every <c>PollInProgressEvery</c>-th lists three more statuses, so 300 ms
    /// per repo keeps discovery well under that.</summary>
    public TimeSpan PollSpacingPerRepo { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Where the webhook receiver listens (e.g. <c>http://0.0.0.0:9111</c>); empty: no webhooks, polling only.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>While verified webhook deliveries arrive (one in the last 10 minutes), polling is only the backstop and runs this often.</summary>
    public TimeSpan PollIntervalWithWebhooks { get; set; } = TimeSpan.FromSeconds(30);

    public int RunnerGroupId { get; set; } = 1;
    public string WorkFolder { get; set; } = "_work";

    /// <summary>Kubeconfig file; empty: in-cluster config when in a pod, else $KUBECONFIG or ~/.kube/config.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Written into <c>blip.io/claimed-by</c>.</summary>
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>Where the embedded SQLite journal lives.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary><c>sqlite</c> (default, single node) or <c>postgres</c> (several replicas).</summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>PostgreSQL connection string when <see cref="Store"/> is <c>postgres</c>.</summary>
    public string? ConnectionString { get; set; }

    public string ClusterHostname { get; set; } = "127.0.0.1";
    public int ClusterPort { get; set; } = 4053;

    /// <summary>Comma-separated seed nodes (akka.tcp://blip@host:port); empty: join self.</summary>
    public string? SeedNodes { get; set; }

    /// <summary>The management endpoint (health, metrics, blipctl): <c>http://HOST:PORT</c>; empty: disabled; port 0: any free port.</summary>
    public string? ManagementUrl { get; set; } = Inspection.ManagementBinding.DefaultUrl;

    /// <summary>Bearer token the management endpoint requires (all routes but /healthz). Required when it listens beyond loopback.</summary>
    public string? ManagementToken { get; set; }

    /// <summary>Split-brain resolver (keep-majority): how long the membership must be stable before unreachable nodes
    /// are downed. Short enough that a dead node's repos and jobs move on within seconds, long enough that a GC
    /// pause or a slow pod start is not mistaken for a partition.</summary>
    public TimeSpan DowningStableAfter { get; set; } = TimeSpan.FromSeconds(7);

    /// <summary>How long after a downed node is removed the cluster's singletons (the poller coordinator, the Janitor, the
    /// orphan-runner sweeper) start on the next node. Akka's default is the downing provider's removal margin
    /// (<see cref="DowningStableAfter"/>), which keeps a removed node's singleton from overlapping the new one; for these
    /// singletons an overlap is harmless (a sighting twice is deduplicated by the job actor, a reconcile or a sweep twice
    /// changes nothing), so polling resumes that much sooner. Above 0: Akka reads 0 as the downing provider's full margin.
    /// Job shards still move only after the full margin.</summary>
    public TimeSpan SingletonHandOverMargin { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How often the Janitor wakes the job actor of every claimed VM (also at once when a node leaves the cluster).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the runner registrations of every configured repo are listed for orphans (a conditional GET per
    /// repo: free when nothing changed).</summary>
    public TimeSpan RunnerSweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A registration of ours is deleted once it has looked orphaned (offline, not busy, its job done, unknown or on
    /// another runner) for this long.</summary>
    public TimeSpan OrphanRunnerGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one GitHub API call may take before it is abandoned as failed (idempotent calls are then
    /// repeated, see OctokitGitHubActions). GitHub itself gives up on a request after 10 s.</summary>
    public TimeSpan GitHubRequestTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long the start-up check may take to open a PostgreSQL connection.</summary>
    public TimeSpan StoreConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The console log: <c>plain</c> (one line per entry: time, level, source, message) or <c>json</c> (one JSON
    /// object per line, the built-in JSON console formatter, for log aggregation).</summary>
    public string LogFormat { get; set; } = ConsoleLogging.Plain;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                errors.Add(message);
            }
        }

        Require(IsDnsLabel(Namespace), $"Blip:Namespace '{Namespace}' is not a valid Kubernetes namespace name");
        Require(!string.IsNullOrWhiteSpace(Pool), "Blip:Pool is empty");
        var gitHubUrlValid = Uri.TryCreate(GitHubApiUrl, UriKind.Absolute, out var gh) && gh.Scheme is "https" or "http";
        Require(gitHubUrlValid, $"Blip:GitHubApiUrl '{GitHubApiUrl}' is not an absolute http(s) URL");
        // The PAT rides on every call: never in clear text beyond this machine (the sandbox serves plain http on loopback).
        Require(!gitHubUrlValid || gh!.Scheme == "https" || IsLoopback(gh),
            $"Blip:GitHubApiUrl '{GitHubApiUrl}' is plain http to a host that is not loopback: the PAT would travel in clear text; use https://{gh?.Authority}{gh?.AbsolutePath}");
        Require(SshPort is > 0 and < 65536, $"Blip:SshPort '{SshPort}' is not a TCP port");
        Require(ClusterPort is >= 0 and < 65536, $"Blip:ClusterPort '{ClusterPort}' is not a TCP port");
        Require(!string.IsNullOrWhiteSpace(SshUser), "Blip:SshUser is empty");
        Require(RunnerDir.StartsWith('/') && !RunnerDir.Contains('\''), $"Blip:RunnerDir '{RunnerDir}' must be an absolute path without quotes");
        Require(RunnerMinimumVersion.Length == 0 || Runners.RunnerVersion.Parse(RunnerMinimumVersion) is not null,
            $"Blip:RunnerMinimumVersion '{RunnerMinimumVersion}' is not a runner version such as 2.330.0");
        Require(RunnerReleaseCheckInterval == TimeSpan.Zero || RunnerReleaseCheckInterval >= TimeSpan.FromSeconds(1),
            $"Blip:RunnerReleaseCheckInterval '{RunnerReleaseCheckInterval}' must be 0 (off) or at least 1 s (e.g. 01:00:00)");
        Require(SshAttempts >= 1, $"Blip:SshAttempts '{SshAttempts}' must be at least 1");
        Require(MaxVmsGivenUpPerJob >= 1, $"Blip:MaxVmsGivenUpPerJob '{MaxVmsGivenUpPerJob}' must be at least 1");
        Require(PollInterval >= TimeSpan.FromMilliseconds(100), $"Blip:PollInterval '{PollInterval}' is below 100 ms");
        Require(MaxDurationSeconds is >= 10 and <= SpecMaxDurationSeconds,
            $"Blip:MaxDurationSeconds '{MaxDurationSeconds}' must be between 10 and {SpecMaxDurationSeconds} (the spec's 30-minute cap may be lowered, never raised)");
        Require(PollInProgressEvery is >= 1 and <= 100, $"Blip:PollInProgressEvery '{PollInProgressEvery}' must be between 1 and 100");
        Require(IdleRunnerGrace > TimeSpan.Zero, $"Blip:IdleRunnerGrace '{IdleRunnerGrace}' must be positive");
        Require(RunnerCheckInterval > TimeSpan.Zero, $"Blip:RunnerCheckInterval '{RunnerCheckInterval}' must be positive");
        Require(QueuedSightingTimeout > TimeSpan.Zero, $"Blip:QueuedSightingTimeout '{QueuedSightingTimeout}' must be positive");
        Require(StuckJobAfter >= TimeSpan.FromSeconds(1), $"Blip:StuckJobAfter '{StuckJobAfter}' must be at least 1 s (e.g. 00:05:00)");
        Require(JobRetention >= TimeSpan.FromSeconds(1), $"Blip:JobRetention '{JobRetention}' is below 1 s (GitHub keeps a job queued for up to 24 h: keep it at least that long outside tests)");
        Require(Store is "sqlite" or "postgres", $"Blip:Store '{Store}' must be 'sqlite' or 'postgres'");
        Require(Store != "postgres" || !string.IsNullOrWhiteSpace(ConnectionString), "Blip:ConnectionString is required when Blip:Store is 'postgres'");
        Require(!string.IsNullOrWhiteSpace(NodeName), "Blip:NodeName is empty");
        Inspection.ManagementBinding.Parse(ManagementUrl, ManagementToken, out var managementError);
        Require(managementError is null, managementError!);
        Require(string.IsNullOrWhiteSpace(WebhookUrl) || (Uri.TryCreate(WebhookUrl, UriKind.Absolute, out var hook) && hook.Scheme is "http" or "https"),
            $"Blip:WebhookUrl '{WebhookUrl}' is not an absolute http(s) URL");
        Require(DowningStableAfter >= TimeSpan.FromSeconds(1), $"Blip:DowningStableAfter '{DowningStableAfter}' is below 1 s");
        Require(SingletonHandOverMargin > TimeSpan.Zero && SingletonHandOverMargin <= DowningStableAfter,
            $"Blip:SingletonHandOverMargin '{SingletonHandOverMargin}' must be above 0 and at most Blip:DowningStableAfter ('{DowningStableAfter}')");
        Require(ReconcileInterval >= TimeSpan.FromSeconds(1), $"Blip:ReconcileInterval '{ReconcileInterval}' is below 1 s");
        Require(RunnerSweepInterval >= TimeSpan.FromSeconds(1), $"Blip:RunnerSweepInterval '{RunnerSweepInterval}' is below 1 s");
        Require(OrphanRunnerGrace >= TimeSpan.Zero, $"Blip:OrphanRunnerGrace '{OrphanRunnerGrace}' is negative");
        Require(StoreConnectTimeout >= TimeSpan.FromSeconds(1), $"Blip:StoreConnectTimeout '{StoreConnectTimeout}' is below 1 s");
        Require(GitHubRequestTimeout >= TimeSpan.FromSeconds(1), $"Blip:GitHubRequestTimeout '{GitHubRequestTimeout}' is below 1 s");
        Require(LogFormat is ConsoleLogging.Plain or ConsoleLogging.Json, $"Blip:LogFormat '{LogFormat}' must be '{ConsoleLogging.Plain}' or '{ConsoleLogging.Json}'");
        return errors;
    }

    /// <summary>The namespace in <paramref name="serviceAccountFile"/> when it exists and holds one, else <c>blip</c>.</summary>
    public static string DefaultNamespace(string serviceAccountFile) => Kubernetes.KubernetesOptions.DefaultNamespace(serviceAccountFile);

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));

    private static bool IsDnsLabel(string value) =>
        value.Length is > 0 and <= 63 && value.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-')
        && value[0] != '-' && value[^1] != '-';
}
