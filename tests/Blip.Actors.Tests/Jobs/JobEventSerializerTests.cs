using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;

namespace Blip.Actors.Tests.Jobs;

public sealed class JobEventSerializerTests : TestKit
{
    private static readonly DateTimeOffset EventTime = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<IJobEvent> Events() =>
    [
        new JobEvents.JobSighted(42, "org/repo", ["self-hosted", "blip"], 7, EventTime, EventTime),
        new JobEvents.VmClaimed("blip-abcde", EventTime),
        new JobEvents.RunnerRegistered(99, "blip-42-1234abcd"),
        new JobEvents.RunnerStarted(EventTime),
        new JobEvents.RunnerJobStarted(EventTime, 43),
        new JobEvents.RunnerJobStarted(EventTime),
        new JobEvents.VmAbandoned("blip-abcde", "host key mismatch"),
        new JobEvents.JobFinished(JobOutcome.Expired, "hard cap", EventTime),
        new JobEvents.VmReleased("blip-abcde", EventTime),
    ];

    [Theory]
    [MemberData(nameof(Events))]
    public void Every_event_round_trips_with_a_stable_versioned_manifest(IJobEvent e)
    {
        var serializer = new JobEventSerializer((ExtendedActorSystem)Sys);

        var manifest = serializer.Manifest(e);
        var back = serializer.FromBinary(serializer.ToBinary(e), manifest);

        Assert.EndsWith(".v1", manifest);
        Assert.DoesNotContain("Blip", manifest);
        Assert.Equivalent(e, back, strict: true);
    }

    [Fact]
    public void A_job_start_seen_by_a_poll_is_written_without_a_ran_job_id()
    {
        var serializer = new JobEventSerializer((ExtendedActorSystem)Sys);

        var byPoll = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(new JobEvents.RunnerJobStarted(EventTime)));
        var byWebhook = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(new JobEvents.RunnerJobStarted(EventTime, 43)));

        Assert.Equal("runner-job-started.v1", serializer.Manifest(new JobEvents.RunnerJobStarted(EventTime)));
        Assert.Equal("""{"at":"2026-11-27T12:00:00+00:00"}""", byPoll);
        Assert.Equal("""{"at":"2026-11-27T12:00:00+00:00","ranJobId":43}""", byWebhook);
    }

    [Fact]
    public void An_unknown_manifest_fails_loudly()
    {
        var serializer = new JobEventSerializer((ExtendedActorSystem)Sys);

        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "nope.v9"));
        Assert.Contains("nope.v9", error.Message);
    }
}
