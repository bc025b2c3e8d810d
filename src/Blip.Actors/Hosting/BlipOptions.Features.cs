using Blip.Actors.GitHub;
using Blip.Actors.Inspection;
using Blip.Actors.Jobs;
using Blip.Actors.Kubernetes;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Blip.Actors.Ssh;
using Blip.Actors.Webhooks;

namespace Blip.Actors.Hosting;

/// <summary>The projections of the one documented surface into what each feature reads (same names, same values).</summary>
public sealed partial class BlipOptions
{
    public GitHubOptions ForGitHub() => new()
    {
        GitHubApiUrl = GitHubApiUrl,
        ConditionalRequests = ConditionalRequests,
        PollInProgressRuns = PollInProgressRuns,
        PollInProgressEvery = PollInProgressEvery,
        RunnerGroupId = RunnerGroupId,
        WorkFolder = WorkFolder,
        GitHubRequestTimeout = GitHubRequestTimeout,
    };

    public KubernetesOptions ForKubernetes() => new() { Namespace = Namespace, Pool = Pool, Kubeconfig = Kubeconfig, NodeName = NodeName };

    public SshOptions ForSsh() => new() { SshUser = SshUser, SshPort = SshPort, RunnerDir = RunnerDir, RunnerMinimumVersion = RunnerMinimumVersion };

    public WebhookOptions ForWebhooks() => new() { WebhookUrl = WebhookUrl, PollIntervalWithWebhooks = PollIntervalWithWebhooks };

    public PollingOptions ForPolling() => new() { PollInterval = PollInterval, PollSpacingPerRepo = PollSpacingPerRepo };

    public RunnerOptions ForRunners() => new() { SshUser = SshUser, RunnerDir = RunnerDir, SshAttempts = SshAttempts };

    public JobOptions ForJobs() => new()
    {
        Pool = Pool,
        NodeName = NodeName,
        Runner = ForRunners(),
        MaxVmsGivenUpPerJob = MaxVmsGivenUpPerJob,
        MaxDurationSeconds = MaxDurationSeconds,
        IdleRunnerGrace = IdleRunnerGrace,
        RunnerCheckInterval = RunnerCheckInterval,
        QueuedSightingTimeout = QueuedSightingTimeout,
        StuckJobAfter = StuckJobAfter,
        JobRetention = JobRetention,
    };

    public JournalStore ForJournal() => JournalStore.From(Store, ConnectionString, DataDir);

    public InspectionOptions ForInspection() => new()
    {
        Pool = Pool,
        Journal = ForJournal(),
        Management = ManagementBinding.Parse(ManagementUrl, ManagementToken, out _),
    };
}
