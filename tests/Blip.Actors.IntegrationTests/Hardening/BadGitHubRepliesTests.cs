using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>
/// GitHub answering 200 with replies the controller cannot use as they are (issue 9): invalid JSON, missing fields,
/// enum strings it has never seen, pages far larger than asked for. Each is named once in the log, the rest keeps
/// working, and once GitHub answers well again every job is served exactly once with nothing left behind.
/// </summary>
public sealed class BadGitHubRepliesTests
{
    private const string Runs = "GET /repos/{o}/{r}/actions/runs";
    private const string Jobs = "GET /repos/{o}/{r}/actions/runs/{run_id}/jobs";
    private const string Runner = "GET /repos/{o}/{r}/actions/runners/{runner_id}";
    private const string Jit = "POST /repos/{o}/{r}/actions/runners/generate-jitconfig";
    private static readonly string[] Labels = ["self-hosted", "blip"];

    [Fact]
    public async Task Invalid_json_is_named_with_its_operation_and_polling_recovers_when_github_answers_well()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var jobs = await EndState.QueueAsync(world, 2);
        await StartCorruptedAsync(world,
            Corrupt(Runs, ReplyCorruption.InvalidJson, 2),
            Corrupt(Jobs, ReplyCorruption.InvalidJson, 1),
            Corrupt(Jit, ReplyCorruption.InvalidJson, 1));

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

        Assert.Equal(1, world.Log.Count("repo org/repo: polling failed (list workflow runs: GitHub's reply could not be read: it is not valid JSON)"));
        Assert.Equal(1, world.Log.Count("repo org/repo: polling failed (list jobs: GitHub's reply could not be read: it is not valid JSON)"));
        Assert.Contains(world.Log.Lines, l => l.Contains("failed to create JIT runner config: generate-jitconfig: GitHub's reply could not be read: it is not valid JSON"));
        Assert.True(world.Log.Contains("repo org/repo: polling works again"));
    }

    [Fact]
    public async Task Runs_and_jobs_missing_their_id_labels_or_status_are_skipped_with_one_warning_each()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 3);
        var first = (await EndState.QueueAsync(world, 1))[0];
        var run = (await world.GitHub.GetJobAsync(first))!.RunId;
        var jobs = new List<long> { first };
        for (var i = 0; i < 2; i++)
        {
            jobs.Add((await world.GitHub.QueueJobAsync(new QueueJobRequest("org/repo", Labels, 1, RunId: run))).JobId);
        }

        // Every corrupted jobs reply loses, in turn, the first job's id, the second's labels and the third's status.
        await StartCorruptedAsync(world,
            Corrupt(Runs, ReplyCorruption.MissingFields, 4),
            Corrupt(Jobs, ReplyCorruption.MissingFields, 3));

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

        Assert.Equal(1, world.Log.Count("repo org/repo: GitHub listed a workflow run without an id (run #1 'CI'); its jobs are skipped until it has one"));
        Assert.Equal(1, world.Log.Count($"repo org/repo: run {run} listed a job without an id (name 'job-1'); skipped until it has one"));
        Assert.Equal(1, world.Log.Count($"job {jobs[1]} (org/repo): GitHub's reply has no labels; skipped until it has them"));
        Assert.Equal(1, world.Log.Count($"job {jobs[2]} (org/repo): GitHub's reply has no status; skipped until it has one"));
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("polling failed"));
    }

    [Fact]
    public async Task An_unknown_job_status_is_named_once_and_never_taken_for_queued()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var jobs = await EndState.QueueAsync(world, 2);
        await StartCorruptedAsync(world,
            Corrupt(Jobs, ReplyCorruption.UnknownEnums, null),
            Corrupt(Runner, ReplyCorruption.UnknownEnums, null));

        // While every jobs reply says waiting_for_moon (three polls of both runs), no job is taken for queued: no VM is claimed.
        await Deadline.UntilAsync(world.StatsAsync, s => s.ByEndpoint.GetValueOrDefault(Jobs)?.Total >= 6, EndState.Long, "three polls of both runs");
        Assert.Empty(jobs.SelectMany(world.ClaimsOf));
        await world.GitHub.SetFaultsAsync(new SandboxFaults([Corrupt(Runner, ReplyCorruption.UnknownEnums, null)]));

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

        Assert.Equal(1, world.Log.Count("(org/repo): status 'waiting_for_moon' is unknown to this controller; not treated as queued"));
    }

    [Fact]
    public async Task A_huge_page_of_jobs_is_capped_and_a_huge_page_of_runs_is_refused_unread()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var jobs = await EndState.QueueAsync(world, 2);
        const string RunsRefused = "repo org/repo: polling failed (list workflow runs: GitHub's reply could not be read: the reply is larger than 8 MiB)";
        // Every runs listing huge until the controller said so (which listing is its first is not this test's business);
        // no run is read meanwhile, so the jobs fault below starts with its count untouched.
        await StartCorruptedAsync(world, Corrupt(Runs, ReplyCorruption.HugePage, null));
        await Deadline.UntilAsync(() => world.Log.Contains(RunsRefused), EndState.Long, "the huge runs page refused");
        await world.GitHub.SetFaultsAsync(new SandboxFaults([Corrupt(Jobs, ReplyCorruption.HugePage, 2)]));

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

        Assert.Equal(1, world.Log.Count(RunsRefused));
        Assert.Equal(1, world.Log.Count($"repo org/repo: list jobs: GitHub sent {ReplyCorruptionSizes.HugePageItems} items on a page of 100; kept 2000 and stopped paging"));
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("list jobs: more than")); // one line for one cause
        // Each job was sighted as one job, not as 2,000 copies: one claim each.
        Assert.All(jobs, j => Assert.Single(world.ClaimsOf(j)));
    }

    /// <summary><paramref name="failCount"/> replies of <paramref name="endpoint"/> corrupted, or every one when null.</summary>
    private static EndpointFault Corrupt(string endpoint, ReplyCorruption kind, int? failCount) => new(endpoint, FailCount: failCount, Corrupt: kind);

    private static async Task StartCorruptedAsync(PipelineWorld world, params EndpointFault[] faults)
    {
        await world.GitHub.SetFaultsAsync(new SandboxFaults(faults));
        await world.StartControllerAsync();
    }
}
