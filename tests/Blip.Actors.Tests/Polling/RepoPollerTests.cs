using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Jobs;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;

namespace Blip.Actors.Tests.Polling;

/// <summary>One repo's poller against a fake GitHub whose answers the test scripts; a probe stands in for the job region.</summary>
public sealed class RepoPollerTests : TestKit
{
    private static readonly RepoName Repo = new("org", "repo");
    private static readonly ImmutableArray<string> Labels = ["self-hosted", "blip"];

    private readonly FakeGitHub _gitHub = new();
    private readonly Akka.TestKit.TestProbe _jobs;
    private readonly Queue<IReadOnlyList<QueuedJob>> _answers = new();
    private readonly object _gate = new();

    public RepoPollerTests()
    {
        _jobs = CreateTestProbe();
        // Each poll takes the next scripted answer; the last one repeats.
        _gitHub.OnList = _ =>
        {
            lock (_gate)
            {
                return Task.FromResult(_answers.Count > 1 ? _answers.Dequeue() : _answers.Count == 1 ? _answers.Peek() : []);
            }
        };
    }

    private static QueuedJob Job(long id, params string[] labels) => new(id, 7, Repo, labels.Length > 0 ? labels : ["self-hosted", "blip"], DateTimeOffset.UtcNow, "build");

    private void Answer(params IReadOnlyList<QueuedJob>[] answers)
    {
        lock (_gate)
        {
            foreach (var answer in answers)
            {
                _answers.Enqueue(answer);
            }
        }
    }

    private IActorRef StartPoller() =>
        Sys.ActorOf(RepoPoller.Props(Repo, Labels, _gitHub, _jobs.Ref, TimeSpan.FromMilliseconds(50), interval => interval));

    [Fact]
    public async Task Every_poll_sights_each_queued_job_whose_labels_match_and_skips_the_others()
    {
        Answer([Job(1), Job(2, "self-hosted"), Job(3, "self-hosted", "blip", "linux")]);
        StartPoller();

        // Two polls in a row: sightings repeat (the job actor dedups), the mismatch never reaches the region.
        var seen = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add((await _jobs.ExpectMsgAsync<JobCommands.Sighted>()).JobId.Value);
        }

        Assert.Equal([1, 3, 1, 3], seen);
    }

    [Fact]
    public async Task A_job_queued_at_one_poll_and_gone_at_the_next_is_reported_as_having_left_the_queue()
    {
        Answer([Job(1), Job(2)], [Job(2)]);
        StartPoller();

        var first = await _jobs.ExpectMsgAsync<JobCommands.Sighted>(m => Assert.Equal(1, m.JobId.Value));
        await _jobs.ExpectMsgAsync<JobCommands.Sighted>(m => Assert.Equal(2, m.JobId.Value));
        await _jobs.ExpectMsgAsync<JobCommands.Sighted>(m => Assert.Equal(2, m.JobId.Value));
        var left = await _jobs.ExpectMsgAsync<JobCommands.LeftQueue>();

        Assert.Equal(1, left.JobId.Value);
        Assert.True(left.ObservedAt > first.ObservedAt, "the departure comes from a poll sent after the sighting");
    }

    [Fact]
    public async Task New_runner_labels_apply_from_the_next_poll()
    {
        Answer([Job(5, "self-hosted", "gpu")]);
        var poller = StartPoller();
        await AwaitConditionAsync(() => Task.FromResult(_gitHub.ListCalls >= 2), TimeSpan.FromSeconds(30));
        Assert.False(_jobs.HasMessages, "a job whose labels lack 'blip' was sighted"); // the first answer was handled before the second poll

        poller.Tell(new PollerProtocol.LabelsChanged(["self-hosted", "gpu"]));

        Assert.Equal(5, (await _jobs.ExpectMsgAsync<JobCommands.Sighted>(TimeSpan.FromSeconds(30))).JobId.Value);
    }

    [Fact]
    public async Task A_failing_github_is_retried_and_polling_goes_on_when_it_answers_again()
    {
        var calls = 0;
        _gitHub.OnList = _ => Interlocked.Increment(ref calls) <= 2
            ? Task.FromException<IReadOnlyList<QueuedJob>>(new GitHubCallException("list runs", System.Net.HttpStatusCode.BadGateway))
            : Task.FromResult<IReadOnlyList<QueuedJob>>([Job(9)]);
        StartPoller();

        Assert.Equal(9, (await _jobs.ExpectMsgAsync<JobCommands.Sighted>(TimeSpan.FromSeconds(30))).JobId.Value);
        Assert.True(_gitHub.ListCalls >= 3);
    }

    [Fact]
    public async Task Polls_never_overlap_the_next_is_sent_only_after_the_previous_answered()
    {
        var pending = new TaskCompletionSource<IReadOnlyList<QueuedJob>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        var maxInFlight = 0;
        _gitHub.OnList = async _ =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            try
            {
                return _gitHub.ListCalls == 1 ? await pending.Task : [Job(1)];
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        };
        StartPoller();
        await AwaitConditionAsync(() => Task.FromResult(_gitHub.ListCalls == 1), TimeSpan.FromSeconds(30));

        // The first poll hangs; the sightings below come only after it is answered, and each from a poll of its own.
        pending.SetResult([Job(1)]);
        for (var i = 0; i < 3; i++)
        {
            await _jobs.ExpectMsgAsync<JobCommands.Sighted>();
        }

        Assert.Equal(1, maxInFlight);
    }

    [Fact]
    public async Task Told_to_stop_mid_poll_it_stops_once_the_call_has_answered_and_never_calls_again()
    {
        // "polling stopped" must mean no call of this poller is still on its way to GitHub (found by
        // ConfigurationTests on a loaded machine: a poll sent before the stop reached GitHub after it).
        var pending = new TaskCompletionSource<IReadOnlyList<QueuedJob>>(TaskCreationOptions.RunContinuationsAsynchronously);
        _gitHub.OnList = _ => pending.Task;
        var poller = StartPoller();
        await AwaitConditionAsync(() => Task.FromResult(_gitHub.ListCalls == 1), TimeSpan.FromSeconds(30));
        var watcher = CreateTestProbe();
        watcher.Watch(poller);

        poller.Tell(PollerProtocol.StopPolling.Instance);
        // Asked again while the call hangs: the poller is still there, waiting for it.
        poller.Tell(new Identify("still-there"), watcher.Ref);
        Assert.Equal(poller, (await watcher.ExpectMsgAsync<ActorIdentity>(TimeSpan.FromSeconds(30))).Subject);

        pending.SetResult([Job(1)]);
        await watcher.ExpectTerminatedAsync(poller, TimeSpan.FromSeconds(30));
        Assert.Equal(1, _gitHub.ListCalls);
    }

    [Fact]
    public async Task Told_to_stop_between_polls_it_stops_at_once()
    {
        Answer([Job(1)]);
        var poller = StartPoller();
        await _jobs.ExpectMsgAsync<JobCommands.Sighted>();
        var watcher = CreateTestProbe();
        watcher.Watch(poller);

        poller.Tell(PollerProtocol.StopPolling.Instance);

        await watcher.ExpectTerminatedAsync(poller, TimeSpan.FromSeconds(30));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
