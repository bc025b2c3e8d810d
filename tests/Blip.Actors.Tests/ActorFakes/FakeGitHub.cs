using System.Collections.Concurrent;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.ActorFakes;

/// <summary>An <see cref="IGitHubActions"/> whose calls answer as the test says and are recorded.</summary>
public sealed class FakeGitHub : IGitHubActions
{
    private int _listCalls;
    private int _releaseListings;

    public int ListCalls => Volatile.Read(ref _listCalls);
    public ConcurrentQueue<string> JitNames { get; } = new();
    public ConcurrentQueue<long> Deleted { get; } = new();

    public Func<RepoName, Task<IReadOnlyList<QueuedJob>>> OnList { get; set; } = _ => Task.FromResult<IReadOnlyList<QueuedJob>>([]);

    public Func<string, Task<JitRunner>> OnJit { get; set; } = name => Task.FromResult(new JitRunner(77, name, new JitConfig("jit-secret")));

    public Func<long, Task<RunnerInfo?>> OnGetRunner { get; set; } = id => Task.FromResult<RunnerInfo?>(new RunnerInfo(id, "r", "online", Busy: true, []));

    /// <summary>The repo's runner registrations (default: none).</summary>
    public Func<RepoName, Task<IReadOnlyList<RunnerInfo>>> OnListRunners { get; set; } = _ => Task.FromResult<IReadOnlyList<RunnerInfo>>([]);

    public Task<IReadOnlyList<QueuedJob>> ListQueuedJobsAsync(RepoName repo, CancellationToken ct)
    {
        Interlocked.Increment(ref _listCalls);
        return OnList(repo);
    }

    public Task<JitRunner> GenerateJitConfigAsync(RepoName repo, string runnerName, IReadOnlyList<string> labels, CancellationToken ct)
    {
        JitNames.Enqueue(runnerName);
        return OnJit(runnerName);
    }

    public Task<RunnerInfo?> GetRunnerAsync(RepoName repo, long runnerId, CancellationToken ct) => OnGetRunner(runnerId);

    public Task<DeleteRunnerOutcome> DeleteRunnerAsync(RepoName repo, long runnerId, CancellationToken ct)
    {
        Deleted.Enqueue(runnerId);
        return Task.FromResult(DeleteRunnerOutcome.Deleted);
    }

    public Task<IReadOnlyList<RunnerInfo>> ListRunnersAsync(RepoName repo, CancellationToken ct) => OnListRunners(repo);

    /// <summary>What <c>actions/runner</c>'s releases are (default: none).</summary>
    public Func<Task<IReadOnlyList<RunnerRelease>>> OnListRunnerReleases { get; set; } = () => Task.FromResult<IReadOnlyList<RunnerRelease>>([]);

    public int RunnerReleaseListings => Volatile.Read(ref _releaseListings);

    public Task<IReadOnlyList<RunnerRelease>> ListRunnerReleasesAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref _releaseListings);
        return OnListRunnerReleases();
    }

    public TimeSpan Pace(TimeSpan interval) => interval;

    public GitHubRateLimit? RateLimit => null;
}

/// <summary>An <see cref="IRunnerShell"/> that records the VMs it started runners on.</summary>
public sealed class FakeShell : IRunnerShell
{
    public ConcurrentQueue<string> Started { get; } = new();

    public Func<RunnerTarget, Task> OnStart { get; set; } = _ => Task.CompletedTask;

    public async Task<RunnerStart> StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct)
    {
        Started.Enqueue(target.VmName);
        await OnStart(target);
        return RunnerStart.UnknownVersion;
    }
}
