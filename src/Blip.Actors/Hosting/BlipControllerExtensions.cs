using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Blip.Actors.Config;
using Blip.Actors.GitHub;
using Blip.Actors.Inspection;
using Blip.Actors.Janitor;
using Blip.Actors.Jobs;
using Blip.Actors.Kubernetes;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Ssh;
using Blip.Actors.Vms;
using Blip.Actors.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Hosting;

/// <summary>The composition root of the controller, shared by the host executable and the integration tests: it
/// validates the options, then chains each feature's registration and wires what crosses features (metrics, the
/// cluster fence).</summary>
public static class BlipControllerExtensions
{
    public const string ActorSystemName = "blip";

    /// <summary>The cluster role of every controller node: it hosts the job shards and the singletons.</summary>
    public const string ControllerRole = "controller";

    /// <summary>Adds the adapters and the actor system. Throws one <see cref="InvalidOperationException"/> listing every bad
    /// option. Performs no I/O: the executable checks the journal first (<see cref="JournalConnectivity"/>).</summary>
    public static IServiceCollection AddBlipController(this IServiceCollection services, BlipOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("invalid configuration: " + string.Join("; ", errors));
        }

        services.AddSingleton(options);
        services.AddSingleton<ControllerSecrets>();
        services.AddSingleton(sp =>
        {
            var faults = new ConfigurationFaults();
            var metrics = sp.GetRequiredService<BlipMetrics>();
            faults.Detected += cause => metrics.ConfigurationFaults.Inc(BootstrapFaults.Label(cause));
            // A rotated client key may be the fix: runners held by a configuration fault try again at once.
            sp.GetRequiredService<ControllerSecrets>().SshClientKeyChanged += faults.ConfigurationChanged;
            return faults;
        });
        services.AddInspection(options.ForInspection());
        services.AddWebhooks(options.ForWebhooks());
        services.AddKubernetes(options.ForKubernetes(), sp => [new KubernetesRequestCounter(sp.GetRequiredService<BlipMetrics>())]);
        services.AddSingleton(sp => new ClusterFence(sp.GetRequiredService<Akka.Actor.ActorSystem>, options, sp.GetRequiredService<ILogger<ClusterFence>>()));
        services.AddSingleton<IVmPool>(sp => new FencedVmPool(sp.GetRequiredService<KubeVirtVmPool>(), sp.GetRequiredService<ClusterFence>()));
        services.AddGitHub(options.ForGitHub());
        services.AddSingleton<IGitHubActions>(sp => new CountingGitHubActions(sp.GetRequiredService<OctokitGitHubActions>(), sp.GetRequiredService<BlipMetrics>()));
        services.AddSsh(options.ForSsh());
        services.AddSingleton<IRunnerShell>(sp => new CountingRunnerShell(sp.GetRequiredService<SshRunnerShell>(), sp.GetRequiredService<BlipMetrics>()));

        services.AddAkka(ActorSystemName, (builder, sp) =>
        {
            var gitHub = sp.GetRequiredService<IGitHubActions>();
            var metrics = sp.GetRequiredService<BlipMetrics>();
            var webhooks = sp.GetRequiredService<WebhookHealth>();
            var jobOptions = options.ForJobs();
            var singletons = SingletonPlacementOf(options);
            builder
                .WithCluster(options, sp.GetRequiredService<ILoggerFactory>())
                .WithJournalAndSnapshot(options)
                .AddJobs(
                    registry => new JobDependencies(sp.GetRequiredService<IVmPool>(), gitHub, sp.GetRequiredService<IRunnerShell>(),
                        registry.Get<VmInventoryKey>(), jobOptions, sp.GetRequiredService<ConfigurationFaults>()),
                    ControllerRole)
                .AddConfigWatcher(sp.GetRequiredService<IConfigSource>(), sp.GetRequiredService<ControllerSecrets>())
                .AddVmInventory(sp.GetRequiredService<IVmPool>(), options.Pool, registry => registry.Get<VmStopRelayKey>(), registry => registry.Get<ConfigWatcherKey>())
                .AddStuckJobWatch(sp.GetRequiredService<IVmPool>(), registry => registry.Get<VmInventoryKey>(), jobOptions)
                .AddRunnerReleaseWatch(gitHub, sp.GetRequiredService<IVmPool>(), options.RunnerReleaseCheckInterval)
                .AddWebhookHealthRelay(webhooks)
                .AddJanitor(options.ReconcileInterval, singletons)
                .AddOrphanRunnerSweeper(gitHub, options.RunnerSweepInterval, options.OrphanRunnerGrace, () => metrics.RunnerRegistrationsDeleted.Inc(), singletons)
                .AddPolling(options.ForPolling(), gitHub, interval => webhooks.PollInterval(interval, options.PollIntervalWithWebhooks), singletons)
                .WithInspection(metrics);
        });

        // After AddAkka: hosted services start in order, so these start once the actor system runs.
        services.AddHostedService(sp => sp.GetRequiredService<ManagementEndpoint>());
        services.AddWebhookReceiver();
        return services;
    }

    /// <summary>Akka's log events go to the host's loggers as entries of their own (source and message), so the console
    /// line carries one timestamp and one level (<see cref="ConsoleLogging"/>), not Akka's text line inside it.</summary>
    public static AkkaConfigurationBuilder WithBlipLogging(this AkkaConfigurationBuilder builder, ILoggerFactory loggerFactory) =>
        builder
            .AddSetup(new AkkaLogForwarderSetup(loggerFactory))
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLogger<AkkaLogForwarder>();
            });

    private static AkkaConfigurationBuilder WithCluster(this AkkaConfigurationBuilder builder, BlipOptions options, ILoggerFactory loggerFactory) =>
        builder
            .WithBlipLogging(loggerFactory)
            .AddHocon(
                "akka.coordinated-shutdown.exit-clr = off\n" +
                LeanMailbox.Hocon + "\n" +
                // Keep-majority decides only once the membership has been stable this long (default 20 s).
                $"akka.cluster.split-brain-resolver.stable-after = {(int)options.DowningStableAfter.TotalMilliseconds}ms",
                HoconAddMode.Prepend)
            .WithRemoting(options.ClusterHostname, options.ClusterPort)
            .WithClustering(new ClusterOptions
            {
                SeedNodes = SeedNodes(options, $"akka.tcp://{ActorSystemName}@{options.ClusterHostname}:{options.ClusterPort}"),
                Roles = [ControllerRole],
                // Keep-majority, explicitly (SplitBrainResolverOption.Default is the same strategy): a minority side downs
                // itself and stops claiming; with an even split the side holding the lowest address survives.
                SplitBrainResolver = new KeepMajorityOption { Role = ControllerRole },
            });

    /// <summary>Where the poller coordinator, the Janitor and the orphan-runner sweeper run, and how soon they move
    /// (<see cref="BlipOptions.SingletonHandOverMargin"/>). Job shards keep the downing provider's full removal margin.</summary>
    public static SingletonPlacement SingletonPlacementOf(BlipOptions options) => new(ControllerRole, options.SingletonHandOverMargin);

    private static string[] SeedNodes(BlipOptions options, string self) =>
        string.IsNullOrWhiteSpace(options.SeedNodes)
            ? [self]
            : options.SeedNodes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static AkkaConfigurationBuilder WithJournalAndSnapshot(this AkkaConfigurationBuilder builder, BlipOptions options)
    {
        if (options.Store != "postgres")
        {
            Directory.CreateDirectory(options.DataDir);
        }

        var journal = options.ForJournal();
        journal.UseWriteAheadLog();
        builder = builder.WithSqlPersistence(journal.ConnectionString, journal.Provider, PersistenceMode.Both, autoInitialize: true);
        // SQLite takes one writer at a time: the plugin's 3 concurrent writers only fought over the lock, each loser sleeping
        // in the driver's busy retries. With 50 jobs starting at once some writes waited past the journal's call timeout and
        // their job actors stopped ("Failed to persist event", the capacity benchmark). One writer batches them instead.
        return journal.IsPostgres ? builder : builder.AddHocon("akka.persistence.journal.sql.parallelism = 1", HoconAddMode.Prepend);
    }
}
