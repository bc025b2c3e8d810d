using System.Collections.Immutable;
using Akka.TestKit.Xunit2;
using Blip.Actors.Config;
using Blip.Actors.Jobs;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;

namespace Blip.Actors.Tests.Polling;

/// <summary>The poller with key <c>pools</c> set: each sighting names the job's pool, and a job no pool can serve is
/// logged once with why.</summary>
public sealed class RepoPollerRoutingTests : TestKit
{
    private static readonly RepoName Repo = new("org", "repo");
    private static readonly ImmutableArray<string> Labels = ["self-hosted", "blip"];

    private static QueuedJob Job(long id, params string[] labels) => new(id, 7, Repo, labels, DateTimeOffset.UtcNow, "build");

    [Fact]
    public async Task Sightings_name_the_routed_pool_and_a_job_with_two_routing_labels_is_logged_once_and_not_sighted()
    {
        var jobs = CreateTestProbe();
        var gitHub = new FakeGitHub
        {
            OnList = _ => Task.FromResult<IReadOnlyList<QueuedJob>>(
            [
                Job(1, "self-hosted", "blip", "large"),
                Job(2, "self-hosted", "blip"),
                Job(3, "self-hosted", "blip", "large", "gpu"),
            ]),
        };
        var routes = PoolRoutes.Parse("large=blip-large,gpu=blip-gpu", Labels).Routes!;

        await EventFilter.Info(contains: "job 3 (org/repo): job labels do not match runner labels: job runs-on [self-hosted,blip,large,gpu] carries 2 routing labels")
            .ExpectOneAsync(async () =>
            {
                Sys.ActorOf(RepoPoller.Props(Repo, Labels, gitHub, jobs.Ref, TimeSpan.FromMilliseconds(50), interval => interval, routes));
                // Three polls: the pools stay the same every time, job 3 never comes.
                var seen = new List<(long, string?)>();
                for (var i = 0; i < 6; i++)
                {
                    var sighted = await jobs.ExpectMsgAsync<JobCommands.Sighted>();
                    seen.Add((sighted.JobId.Value, sighted.Pool));
                }

                Assert.Equal([(1, "blip-large"), (2, null), (1, "blip-large"), (2, null), (1, "blip-large"), (2, null)], seen);
            });
    }
}
