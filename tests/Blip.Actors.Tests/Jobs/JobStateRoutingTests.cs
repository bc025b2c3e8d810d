using System.Text;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary>The pool a job was routed to is journaled with its sighting: a recovered job looks for its VM in the same pool
/// whatever the ConfigMap says by then, and an unrouted job's event reads as before routing existed.</summary>
public sealed class JobStateRoutingTests : TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 5, 0, 0, TimeSpan.Zero);

    private static JobCommands.Sighted Sighted(string? pool) =>
        new(new JobId(42), new RepoName("org", "repo"), ["self-hosted", "blip", "large"], 7, T0, T0, pool);

    [Fact]
    public void A_routed_sighting_is_journaled_with_its_pool_and_recovery_restores_it()
    {
        var events = JobState.Empty.OnSighted(Sighted("blip-large"), T0);

        var sighted = Assert.IsType<JobEvents.JobSighted>(Assert.Single(events));
        Assert.Equal("blip-large", sighted.Pool);
        Assert.Equal("blip-large", events.Aggregate(JobState.Empty, (state, e) => state.Apply(e)).Pool);
    }

    [Fact]
    public void The_pool_survives_the_journal_serializer()
    {
        var serializer = new JobEventSerializer((ExtendedActorSystem)Sys);
        var e = new JobEvents.JobSighted(42, "org/repo", ["self-hosted", "blip", "large"], 7, T0, T0, "blip-large");

        var back = (JobEvents.JobSighted)serializer.FromBinary(serializer.ToBinary(e), serializer.Manifest(e));

        Assert.Equal("blip-large", back.Pool);
        Assert.Equal(e.Labels.ToArray(), back.Labels.ToArray());
    }

    [Fact]
    public void An_unrouted_sighting_is_written_without_a_pool_and_an_old_event_reads_as_the_default_pool()
    {
        var serializer = new JobEventSerializer((ExtendedActorSystem)Sys);
        var e = new JobEvents.JobSighted(42, "org/repo", ["self-hosted", "blip"], 7, T0, T0);

        var json = Encoding.UTF8.GetString(serializer.ToBinary(e));
        var back = (JobEvents.JobSighted)serializer.FromBinary(serializer.ToBinary(e), serializer.Manifest(e));

        Assert.DoesNotContain("pool", json, StringComparison.OrdinalIgnoreCase);
        Assert.Null(back.Pool);
        Assert.Null(JobState.Empty.Apply(back).Pool);
    }
}
