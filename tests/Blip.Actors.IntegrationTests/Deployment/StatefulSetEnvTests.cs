using System.Reflection;
using Blip.Actors.Hosting;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>The StatefulSet's Blip__* environment binds to real BlipOptions and forms the intended cluster.</summary>
public sealed class StatefulSetEnvTests
{
    private static readonly IReadOnlySet<string> OptionNames = typeof(BlipOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is { IsPublic: true })
        .Select(p => p.Name)
        .ToHashSet(StringComparer.Ordinal);

    [Fact]
    public async Task Every_Blip_variable_names_a_settable_BlipOptions_property()
    {
        var env = await RenderedBase.EnvAsync();
        var blip = env.Where(e => e.Name.StartsWith("Blip__", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(blip);
        Assert.All(blip, e =>
        {
            var option = e.Name["Blip__".Length..];
            // Exact case: the binder would forgive "Blip__nodename", a reviewer should not have to.
            Assert.True(OptionNames.Contains(option), $"{e.Name} names no BlipOptions property (known: {string.Join(", ", OptionNames.Order())})");
        });
        Assert.Equal(env.Count, env.Select(e => e.Name).Distinct(StringComparer.Ordinal).Count());
        // A "Blip_X" (one underscore) or "BLIP__X" would silently bind nothing.
        Assert.DoesNotContain(env, e => e.Name.StartsWith("Blip", StringComparison.OrdinalIgnoreCase) && !e.Name.StartsWith("Blip__", StringComparison.Ordinal) && !e.Name.StartsWith("BLIPCTL_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Node_identity_comes_from_the_pod_and_the_store_is_the_shared_postgres()
    {
        var env = (await RenderedBase.EnvAsync()).ToDictionary(e => e.Name, e => e);

        Assert.Equal("metadata.name", Yaml.Str(env["POD_NAME"].Entry, "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.name", Yaml.Str(env["Blip__NodeName"].Entry, "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("postgres", env["Blip__Store"].Value);
        Assert.Equal("blip-postgres", Yaml.Str(env["Blip__ConnectionString"].Entry, "valueFrom", "secretKeyRef", "name"));
        Assert.Equal("connection-string", Yaml.Str(env["Blip__ConnectionString"].Entry, "valueFrom", "secretKeyRef", "key"));
        Assert.Null(env["Blip__ConnectionString"].Value);

        // DataDir must be a writable mount (the root filesystem is read-only).
        var container = await RenderedBase.ControllerContainerAsync();
        var mounts = Yaml.Seq(container, "volumeMounts").OfType<YamlMappingNode>().Select(m => Yaml.Str(m, "mountPath"));
        Assert.Contains(env["Blip__DataDir"].Value, mounts);
    }

    [Fact]
    public async Task Variables_referencing_POD_NAME_or_POD_NAMESPACE_come_after_them()
    {
        var env = await RenderedBase.EnvAsync();
        foreach (var variable in new[] { "POD_NAME", "POD_NAMESPACE" })
        {
            var defined = env.ToList().FindIndex(e => e.Name == variable);
            Assert.True(defined >= 0, $"{variable} is not set");
            for (var i = 0; i < env.Count; i++)
            {
                if (env[i].Value?.Contains($"$({variable})", StringComparison.Ordinal) == true)
                {
                    // Kubernetes expands $(VAR) only for variables defined EARLIER in the list.
                    Assert.True(i > defined, $"{env[i].Name} uses $({variable}) before it is defined");
                }
            }
        }
    }

    [Fact]
    public async Task The_namespace_comes_from_the_pod_so_an_overlay_can_move_it()
    {
        var env = (await RenderedBase.EnvAsync()).ToDictionary(e => e.Name, e => e);

        Assert.Equal("metadata.namespace", Yaml.Str(env["POD_NAMESPACE"].Entry, "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", Yaml.Str(env["Blip__Namespace"].Entry, "valueFrom", "fieldRef", "fieldPath"));
        // No value spells the namespace out: a kustomize `namespace:` overlay would leave it behind.
        Assert.All(env.Values.Where(e => e.Value is not null), e => Assert.DoesNotContain(".blip.svc", e.Value!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Seed_nodes_are_every_replicas_stable_dns_name_on_the_cluster_port()
    {
        var sts = (await RenderedBase.SingleAsync("StatefulSet")).Root;
        var replicas = int.Parse(Yaml.Str(sts, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture);
        var service = Yaml.Str(sts, "spec", "serviceName");
        var env = (await RenderedBase.EnvAsync()).ToDictionary(e => e.Name, e => e.Value);
        var port = env["Blip__ClusterPort"];
        Assert.Equal("4053", port);

        Assert.Equal($"$(POD_NAME).{service}.$(POD_NAMESPACE).svc.cluster.local", env["Blip__ClusterHostname"]);
        var expectedSeeds = Enumerable.Range(0, replicas)
            .Select(i => $"akka.tcp://{BlipControllerExtensions.ActorSystemName}@{Yaml.Str(sts, "metadata", "name")}-{i}.{service}.$(POD_NAMESPACE).svc.cluster.local:{port}");
        Assert.Equal(expectedSeeds, env["Blip__SeedNodes"]!.Split(',').Select(s => s.Trim()));

        // What pod N's own address expands to must be exactly its entry in the seed list.
        var seeds = env["Blip__SeedNodes"]!.Split(',');
        for (var i = 0; i < replicas; i++)
        {
            var self = $"akka.tcp://{BlipControllerExtensions.ActorSystemName}@{env["Blip__ClusterHostname"]!.Replace("$(POD_NAME)", $"{Yaml.Str(sts, "metadata", "name")}-{i}")}:{port}";
            Assert.Equal(self, seeds[i]);
        }
    }

    [Fact]
    public async Task Environment_binds_to_options_that_validate()
    {
        var env = await RenderedBase.EnvAsync();
        var values = new Dictionary<string, string?>();
        foreach (var (name, value, _) in env.Where(e => e.Name.StartsWith("Blip__", StringComparison.Ordinal)))
        {
            // valueFrom stands in for what the kubelet would put there.
            var resolved = value?.Replace("$(POD_NAME)", "blip-controller-0").Replace("$(POD_NAMESPACE)", "blip") ?? name switch
            {
                "Blip__NodeName" => "blip-controller-0",
                "Blip__Namespace" => "blip",
                "Blip__ConnectionString" => "Host=postgres;Database=blip;Username=blip;Password=x",
                "Blip__ManagementToken" => "token-from-the-blip-management-secret",
                _ => throw new Xunit.Sdk.XunitException($"{name} comes from valueFrom; this test does not know what to put there"),
            };
            values[name.Replace("__", ":", StringComparison.Ordinal)] = resolved;
        }
        var options = new ConfigurationBuilder().AddInMemoryCollection(values).Build()
            .GetSection(BlipOptions.Section).Get<BlipOptions>(o => o.ErrorOnUnknownConfiguration = true);

        Assert.NotNull(options);
        Assert.Empty(options.Validate());
        Assert.Equal(4053, options.ClusterPort);
        Assert.Equal("blip-controller-0", options.NodeName);
        Assert.Equal("blip-controller-0.blip-controller.blip.svc.cluster.local", options.ClusterHostname);
    }
}
