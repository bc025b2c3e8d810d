using Blip.Actors.Config;

namespace Blip.Actors.Tests.Config;

/// <summary>Key <c>pools</c>: the parser (each bad value one line naming the key, the entry and the fix) and the routing
/// decision (labels and configuration to a pool, or no match and why).</summary>
public sealed class PoolRoutingTests
{
    private static readonly string[] Configured = ["self-hosted", "blip"];
    private const string Fix = "write label=pool entries separated by commas, e.g. pools: \"large=blip-large,gpu=blip-gpu\"";

    private static PoolRoutes Routes(string value) => PoolRoutes.Parse(value, Configured).Routes!;

    [Fact]
    public void Entries_map_labels_to_pools_trimmed_and_empty_entries_dropped()
    {
        var parsed = PoolRoutes.Parse(" large = blip-large ,, gpu=blip-gpu,", Configured);

        Assert.Null(parsed.Error);
        Assert.Equal(new Dictionary<string, string> { ["large"] = "blip-large", ["gpu"] = "blip-gpu" }, parsed.Routes!.PoolByLabel);
        Assert.Equal(["blip-gpu", "blip-large"], parsed.Routes.Pools.Order());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void No_value_routes_nothing(string? value)
    {
        var parsed = PoolRoutes.Parse(value, Configured);

        Assert.Null(parsed.Error);
        Assert.True(parsed.Routes!.IsEmpty);
    }

    [Theory]
    [InlineData("=blip-large", "entry \"=blip-large\" has an empty label")]
    [InlineData("large=", "entry \"large=\" has an empty pool")]
    [InlineData("large=blip-large,large=blip-huge", "entry \"large=blip-huge\" repeats label \"large\", already routed to pool blip-large")]
    [InlineData("blip=blip-large", "entry \"blip=blip-large\" routes \"blip\", which is one of runner-labels (every job carries it)")]
    [InlineData("large:blip-large", "entry \"large:blip-large\" is not one label=pool pair")]
    [InlineData("large=blip-large;gpu=blip-gpu", "entry \"large=blip-large;gpu=blip-gpu\" is not one label=pool pair")]
    [InlineData("large=blip-large gpu=blip-gpu", "entry \"large=blip-large gpu=blip-gpu\" is not one label=pool pair")]
    [InlineData("large=Blip_Large", "entry \"large=Blip_Large\" names a pool that is not a Kubernetes name (lowercase letters, digits and '-', at most 63)")]
    [InlineData("very large=blip-large", "entry \"very large=blip-large\" has a label with whitespace")]
    public void A_bad_value_is_one_line_naming_the_key_the_entry_and_the_fix(string value, string problem)
    {
        var parsed = PoolRoutes.Parse("gpu=blip-gpu," + value, Configured);

        Assert.Null(parsed.Routes);
        Assert.Equal($"ConfigMap github-actions: key pools: {problem}; {Fix}", parsed.Error);
    }

    [Fact]
    public void Without_routes_a_matching_job_goes_to_the_default_pool_as_before() =>
        Assert.Equal(new PoolRoute(null, null, null), PoolRoute.Decide(Configured, PoolRoutes.None, ["self-hosted", "blip", "large"]));

    [Fact]
    public void A_job_without_a_routing_label_goes_to_the_default_pool() =>
        Assert.Equal(new PoolRoute(null, null, null), PoolRoute.Decide(Configured, Routes("large=blip-large"), ["self-hosted", "blip"]));

    [Fact]
    public void A_job_with_one_routing_label_goes_to_its_pool()
    {
        var route = PoolRoute.Decide(Configured, Routes("large=blip-large,gpu=blip-gpu"), ["blip", "large", "self-hosted"]);

        Assert.True(route.Matches);
        Assert.Equal(("blip-large", "large"), (route.Pool, route.RoutingLabel));
    }

    [Fact]
    public void A_job_with_two_routing_labels_does_not_match_and_says_why()
    {
        var route = PoolRoute.Decide(Configured, Routes("large=blip-large,gpu=blip-gpu"), ["self-hosted", "blip", "large", "gpu"]);

        Assert.False(route.Matches);
        Assert.Null(route.Pool);
        Assert.Equal(
            "job runs-on [self-hosted,blip,large,gpu] carries 2 routing labels of key pools (\"large\" to pool blip-large, \"gpu\" to pool blip-gpu); " +
            "a job is served from one pool, so keep one of them in runs-on",
            route.Mismatch);
    }

    [Fact]
    public void A_routed_job_asking_for_labels_its_runner_will_not_carry_does_not_match()
    {
        var route = PoolRoute.Decide(Configured, Routes("large=blip-large"), ["self-hosted", "blip", "large", "arm64"]);

        Assert.False(route.Matches);
        Assert.Equal(
            "job runs-on [self-hosted,blip,large,arm64] is routed by \"large\" to pool blip-large, whose runners carry runner-labels [self-hosted,blip] plus \"large\" only, " +
            "not [arm64]; drop those from runs-on or add them to runner-labels",
            route.Mismatch);
    }

    [Fact]
    public void A_job_missing_a_runner_label_does_not_match_as_before_with_the_case_hint()
    {
        var route = PoolRoute.Decide(Configured, Routes("large=blip-large"), ["self-hosted", "Blip", "large"]);

        Assert.False(route.Matches);
        Assert.StartsWith("job runs-on [self-hosted,Blip,large], runner-labels [self-hosted,blip]; they differ only in case", route.Mismatch);
    }

    [Fact]
    public void Routing_labels_are_compared_case_sensitively() =>
        Assert.Equal(new PoolRoute(null, null, null), PoolRoute.Decide(Configured, Routes("large=blip-large"), ["self-hosted", "blip", "Large"]));
}
