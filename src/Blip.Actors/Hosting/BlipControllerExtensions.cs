using Akka.Actor;
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
using Blip.Actors.Ssh;
using Blip.Actors.Vms;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.Hosting;

/// <summary>The composition root of the controller, shared by the host executable and the integration tests.</summary>
public static class BlipControllerExtensions
{
    public const string ActorSystemName = "blip";

    /// <summary>Adds the adapters and the actor system. Throws one <see cref="InvalidOperationException"/> listing every bad option.</summary>
    public static IServiceCollection AddBlipController(this IServiceCollection services, BlipOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("invalid configuration: " + string.Join("; ", errors));
        }

        JournalConnectivity.EnsureReachable(options, options.StoreConnectTimeout);

        services.AddSingleton(options);
        services.AddSingleton(options.ForKubernetes());
        services.AddSingleton(options.ForGitHub());
        services.AddSingleton(options.ForSsh());
        services.AddSingleton(options.ForWebhooks());
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
        services.AddSingleton<Webhooks.WebhookHealth>();
        services.AddInspection(options.ForInspection());
        services.AddSingleton<IKubernetes>(sp => KubeClientFactory.Create(options.ForKubernetes(), new KubernetesRequestCounter(sp.GetRequiredService<BlipMetrics>())));
        services.AddSingleton<KubeVirtVmPool>();
        services.AddSingleton(sp => new ClusterFence(sp.GetRequiredService<ActorSystem>, options, sp.GetRequiredService<ILogger<ClusterFence>>()));
        services.AddSingleton<IVmPool>(sp => new FencedVmPool(sp.GetRequiredService<KubeVirtVmPool>(), sp.GetRequiredService<ClusterFence>()));
        services.AddSingleton<IConfigSource, KubeConfigSource>();
        services.AddSingleton<OctokitGitHubActions>();
        services.AddSingleton<IGitHubActions>(sp => new CountingGitHubActions(sp.GetRequiredService<OctokitGitHubActions>(), sp.GetRequiredService<BlipMetrics>()));
        services.AddSingleton<SshRunnerShell>();
        services.AddSingleton<IRunnerShell>(sp => new CountingRunnerShell(sp.GetRequiredService<SshRunnerShell>(), sp.GetRequiredService<BlipMetrics>()));

        services.AddAkka(ActorSystemName, (builder, sp) =>
        {
            var address = $"akka.tcp://{ActorSystemName}@{options.ClusterHostname}:{options.ClusterPort}";
            builder
                .ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLoggerFactory();
                })
                .AddHocon(
                    // Job actors passivate themselves when done; idle passivation would stop the timers of a running job.
                    "akka.cluster.sharding.passivate-idle-entity-after = off\n" +
                    "akka.cluster.sharding.remember-entities = off\n" +
                    "akka.coordinated-shutdown.exit-clr = off\n" +
                    // Keep-majority decides only once the membership has been stable this long (default 20 s).
                    $"akka.cluster.split-brain-resolver.stable-after = {(int)options.DowningStableAfter.TotalMilliseconds}ms",
                    HoconAddMode.Prepend)
                .WithRemoting(options.ClusterHostname, options.ClusterPort)
                .WithClustering(new ClusterOptions
                {
                    SeedNodes = SeedNodes(options, address),
                    Roles = ["controller"],
                    // Keep-majority, explicitly (SplitBrainResolverOption.Default is the same strategy): a minority side downs
                    // itself and stops claiming; with an even split the side holding the lowest address survives.
                    SplitBrainResolver = new KeepMajorityOption { Role = "controller" },
                })
                .WithJournalAndSnapshot(options)
                .WithCustomSerializer("blip-job-events", [typeof(IJobEvent)], system => new JobEventSerializer(system))
                .WithShardRegion<JobRegion>(
                    "job",
                    (_, registry, _) => entityId => JobActor.Props(entityId, Dependencies(sp, registry, options)),
                    new JobMessageExtractor(),
                    new ShardOptions { Role = "controller" })
                .WithActors((system, registry) =>
                {
                    var config = system.ActorOf(ConfigWatcher.Props(sp.GetRequiredService<IConfigSource>(), sp.GetRequiredService<ControllerSecrets>()), "config");
                    registry.Register<ConfigWatcherKey>(config);
                    var jobs = registry.Get<JobRegion>();
                    var inventory = system.ActorOf(VmInventory.Props(sp.GetRequiredService<IVmPool>(), jobs, options.Pool), "vms");
                    registry.Register<VmInventoryKey>(inventory);
                    system.ActorOf(Webhooks.WebhookHealthRelay.Props(sp.GetRequiredService<Webhooks.WebhookHealth>()), "webhook-health");
                })
                // One reconciler for the cluster; it also sweeps when a node is removed, so the jobs that node hosted
                // come back on another node at once instead of at the next sighting.
                .WithSingleton<JanitorKey>(
                    "janitor",
                    (_, registry, _) => Janitor.Janitor.Props(registry.Get<VmInventoryKey>(), registry.Get<JobRegion>(), options.ReconcileInterval),
                    new ClusterSingletonOptions { Role = "controller" },
                    createProxyToo: false)
                // One sweeper of orphaned runner registrations for the cluster (conditional listings: ~free when idle).
                .WithSingleton<OrphanRunnerSweeperKey>(
                    "runner-sweeper",
                    (_, registry, _) => Runners.OrphanRunnerSweeper.Props(
                        registry.Get<ConfigWatcherKey>(), sp.GetRequiredService<IGitHubActions>(), registry.Get<JobRegion>(), options.RunnerSweepInterval,
                        options.OrphanRunnerGrace, () => sp.GetRequiredService<BlipMetrics>().RunnerRegistrationsDeleted.Inc()),
                    new ClusterSingletonOptions { Role = "controller" },
                    createProxyToo: false)
                .WithSingleton<PollerCoordinatorKey>(
                    "pollers",
                    (_, registry, _) => PollerCoordinator.Props(
                        registry.Get<ConfigWatcherKey>(), sp.GetRequiredService<IGitHubActions>(), registry.Get<JobRegion>(), options.PollInterval, options.PollSpacingPerRepo,
                        interval => sp.GetRequiredService<Webhooks.WebhookHealth>().PollInterval(interval, options.PollIntervalWithWebhooks)),
                    new ClusterSingletonOptions { Role = "controller" },
                    createProxyToo: false)
                .WithInspection(sp.GetRequiredService<BlipMetrics>());
        });

        // After AddAkka: hosted services start in order, so these start once the actor system runs.
        services.AddHostedService(sp => sp.GetRequiredService<ManagementEndpoint>());
        services.AddHostedService<Webhooks.WebhookReceiver>();
        return services;
    }

    private static JobDependencies Dependencies(IServiceProvider sp, IActorRegistry registry, BlipOptions options) =>
        new(sp.GetRequiredService<IVmPool>(), sp.GetRequiredService<IGitHubActions>(), sp.GetRequiredService<IRunnerShell>(),
            registry.Get<VmInventoryKey>(), options.ForJobs(), sp.GetRequiredService<ConfigurationFaults>());

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
        return builder.WithSqlPersistence(journal.ConnectionString, journal.Provider, PersistenceMode.Both, autoInitialize: true);
    }
}
