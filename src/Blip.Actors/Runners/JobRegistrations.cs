using Akka.Event;
using Blip.Actors.Shared;

namespace Blip.Actors.Runners;

/// <summary>Finding and deleting runner registrations of ours on GitHub, for the owners that clean up after a job
/// (<see cref="RunnerBootstrapper"/> after its stop, the job actor when a job ends before its runner ran).</summary>
public static class JobRegistrations
{
    /// <summary>Deletes the registrations <paramref name="which"/> selects that are not busy (a busy one runs a job: GitHub
    /// refuses, and it goes by itself); returns their names.</summary>
    public static async Task<IReadOnlyList<string>> DeleteAsync(IGitHubActions gitHub, RepoName repo, Func<RunnerInfo, bool> which, CancellationToken ct)
    {
        var deleted = new List<string>();
        foreach (var runner in await gitHub.ListRunnersAsync(repo, ct).ConfigureAwait(false))
        {
            if (!runner.Busy && which(runner)
                && await gitHub.DeleteRunnerAsync(repo, runner.Id, ct).ConfigureAwait(false) == DeleteRunnerOutcome.Deleted)
            {
                deleted.Add(runner.Name);
            }
        }

        return deleted;
    }

    /// <summary>Deletes, in the background, every registration made for <paramref name="jobId"/> (<c>blip-&lt;jobId&gt;-…</c>)
    /// that is not busy; says what it deleted, or that it failed (the orphan runner sweeper is the fallback).</summary>
    public static void DeleteUnusedOfJobQuietly(IGitHubActions gitHub, RepoName repo, long jobId, ILoggingAdapter log) =>
        DeleteAsync(gitHub, repo, r => RunnerName.JobOf(r.Name) == jobId, CancellationToken.None).ContinueWith(
            t =>
            {
                if (t.IsFaulted)
                {
                    log.Warning("job {0}: could not delete its unused runner registrations ({1}); the orphan runner sweeper will", jobId, t.Exception?.GetBaseException().Message);
                }
                else if (t.Result.Count > 0)
                {
                    log.Info("job {0}: deleted runner registrations that never ran a job: {1}", jobId, string.Join(", ", t.Result));
                }
            },
            TaskScheduler.Default);
}
