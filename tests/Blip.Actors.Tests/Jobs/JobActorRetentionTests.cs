using Akka.Actor;
using Blip.Actors.Hosting;
using Blip.Actors.Jobs;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary>The job actor and <c>Blip:JobRetention</c>: a finished job's events deleted when asked past the retention, and
/// the empty actor that a later sighting then meets taking nothing up.</summary>
public sealed class JobActorRetentionTests : JobActorHarness
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_first_sighting_of_a_job_queued_longer_ago_than_the_retention_claims_nothing()
    {
        StartJob();

        Job.Tell(new JobCommands.Sighted(new JobId(Id), Repo, ["self-hosted", "blip"], 7, DateTimeOffset.UtcNow.AddHours(-25), DateTimeOffset.UtcNow));

        Assert.Equal(JobPhase.New, (await StatusWithNoNewEventAsync()).Phase);
        Assert.False(Inventory.HasMessages, "no claimer asked the inventory for a VM");
    }

    [Fact]
    public async Task Done_within_the_retention_a_forget_keeps_the_record()
    {
        await DoneAsync();

        Job.Tell(new JobCommands.Forget(new JobId(Id)), TestActor);
        Assert.Equal(JobPhase.Done, (await StatusWithNoNewEventAsync()).Phase);
        await RestartAsync(null);

        Assert.Equal(JobPhase.Done, (await StatusAsync()).Phase);
        Assert.False(HasMessages, "no events-deleted reply");
    }

    [Fact]
    public async Task Done_past_the_retention_a_forget_deletes_the_events_and_a_replayed_sighting_of_the_job_claims_nothing()
    {
        // Long enough for the first sighting (queued 5 s before the test began) to be taken up; the job then finishes at
        // once, and a retention later it may be forgotten.
        Action<BlipOptions> retention = o => o.JobRetention = TimeSpan.FromSeconds(10);
        await DoneAsync(retention);

        // The retention runs from the finish: ask until the job answers that its events are gone.
        var deleted = await AwaitAssertReplyAsync();
        Assert.Equal(Id, deleted.JobId);
        Assert.Equal($"job-{Id}", deleted.PersistenceId);

        await RestartAsync(retention);
        Assert.Equal(JobPhase.New, (await StatusAsync()).Phase); // the journal holds nothing of it

        Job.Tell(Sighting()); // the same job, queued more than a retention ago
        Assert.Equal(JobPhase.New, (await StatusWithNoNewEventAsync()).Phase);
        Assert.False(Inventory.HasMessages, "no claimer asked the inventory for a VM");
    }

    private async Task<JobRetentionSweeper.EventsDeleted> AwaitAssertReplyAsync()
    {
        JobRetentionSweeper.EventsDeleted? reply = null;
        await AwaitAssertAsync(
            async () =>
            {
                Job.Tell(new JobCommands.Forget(new JobId(Id)), TestActor);
                reply = await ExpectMsgAsync<JobRetentionSweeper.EventsDeleted>(TimeSpan.FromMilliseconds(500));
            },
            TimeSpan.FromSeconds(30),
            TimeSpan.FromMilliseconds(100));
        return reply!;
    }

    /// <summary>Stops the job actor and starts a new incarnation, which recovers from the journal.</summary>
    private async Task RestartAsync(Action<BlipOptions>? tweak)
    {
        Watch(Job);
        Sys.Stop(Job);
        await ExpectTerminatedAsync(Job, Ask);
        while (Inventory.HasMessages)
        {
            Inventory.ReceiveOne(TimeSpan.Zero);
        }

        StartJob(tweak);
    }
}
