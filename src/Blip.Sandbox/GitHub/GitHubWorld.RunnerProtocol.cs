using System.Security.Cryptography;
using System.Text;

namespace Blip.Sandbox.GitHub;

/// <summary>The runner protocol (<c>/_runner/*</c>): a JIT config redeemed once, jobs acquired and completed, and runners
/// that fall silent mid-job.</summary>
internal sealed partial class GitHubWorld
{
    /// <summary>Runners below this version are refused as GitHub refuses deprecated ones; null: none.</summary>
    public Version? MinimumRunnerVersion { get; set; }

    /// <summary>Redeems a JIT config's secret, once. Returns the runner's session token, or an error text. A runner older
    /// than <see cref="MinimumRunnerVersion"/> is refused and its config stays unused (GitHub refuses the listener, not the
    /// registration: it stays offline).</summary>
    public bool Redeem(long runnerId, string secret, string? version, out string sessionOrError, out string runnerName)
    {
        lock (_gate)
        {
            runnerName = "";
            if (!_runners.TryGetValue(runnerId, out var runner)
                || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(runner.RedeemSecret), Encoding.UTF8.GetBytes(secret)))
            {
                sessionOrError = "invalid jit config";
                return false;
            }
            if (runner.RemovedAt is not null)
            {
                sessionOrError = "runner registration was removed";
                return false;
            }
            if (runner.RedeemedAt is not null)
            {
                sessionOrError = "jit config already used";
                return false;
            }
            if (MinimumRunnerVersion is { } minimum && Version.TryParse(version, out var reported) && reported < minimum)
            {
                sessionOrError = $"Runner version v{version} is deprecated and cannot receive messages.";
                return false;
            }
            runner.RedeemedAt = Now;
            runner.Online = true;
            runner.SessionToken = "rs_" + RandomAlphanumeric(40);
            sessionOrError = runner.SessionToken;
            runnerName = runner.Name;
            return true;
        }
    }

    public enum AcquireOutcome { Job, NoJobYet, Gone }

    /// <summary>Gives the session's runner the oldest queued job its labels cover, if any.</summary>
    public AcquireOutcome TryAcquire(string session, out EmulatedJob? job, out Task changed)
    {
        WorkflowJobEvent started;
        lock (_gate)
        {
            changed = _changed.Task;
            job = null;
            var runner = BySession(session);
            if (runner is null || (runner.RemovedAt is not null && runner.JobId is null))
            {
                return AcquireOutcome.Gone;
            }

            if (runner.JobId is { } current)
            {
                // A retried acquire after a lost reply: hand back the same job.
                job = _jobs[current].Copy();
                return job.Status == "in_progress" ? AcquireOutcome.Job : AcquireOutcome.Gone;
            }
            var candidate = _jobs.Values.FirstOrDefault(j =>
                j.Run.Repo == runner.Repo
                && j.Status == "queued"
                && j.Labels.All(l => runner.Labels.Contains(l, StringComparer.OrdinalIgnoreCase)));
            if (candidate is null)
            {
                return AcquireOutcome.NoJobYet;
            }

            candidate.Status = "in_progress";
            candidate.StartedAt = Now;
            candidate.RunnerId = runner.Id;
            candidate.RunnerName = runner.Name;
            runner.Busy = true;
            runner.JobId = candidate.Id;
            UpdateRun(candidate.Run);
            started = JobEvent("in_progress", candidate);
            job = candidate.Copy();
        }
        JobChanged?.Invoke(started);
        return AcquireOutcome.Job;
    }

    /// <summary>"running", "cancelled", or null when the session is gone.</summary>
    public string? JobStateForSession(string session)
    {
        lock (_gate)
        {
            var runner = BySession(session);
            if (runner is null)
            {
                return null;
            }

            if (runner.JobId is not { } jobId)
            {
                return runner.RemovedAt is null ? "idle" : null;
            }

            return _jobs[jobId].Status == "in_progress" ? "running" : "cancelled";
        }
    }

    public enum CompleteOutcome { Completed, Cancelled, Gone }

    /// <summary>The runner finished its job: success, and the ephemeral runner is deregistered.</summary>
    public CompleteOutcome Complete(string session)
    {
        WorkflowJobEvent completed;
        lock (_gate)
        {
            var runner = BySession(session);
            if (runner?.JobId is not { } jobId)
            {
                return CompleteOutcome.Gone;
            }

            var job = _jobs[jobId];
            Deregister(runner);
            Pulse();
            // A repeated complete (its first reply lost) finds the job done already.
            if (job.Status != "in_progress")
            {
                return job.Conclusion == "success" ? CompleteOutcome.Completed : CompleteOutcome.Cancelled;
            }

            job.Status = "completed";
            job.Conclusion = "success";
            job.CompletedAt = Now;
            UpdateRun(job.Run);
            completed = JobEvent("completed", job);
        }
        JobChanged?.Invoke(completed);
        RaiseReleased();
        return CompleteOutcome.Completed;
    }

    private EmulatedRunner? BySession(string session)
    {
        var runner = session.Length == 0 ? null : _runners.Values.FirstOrDefault(r => r.SessionToken == session);
        if (runner is not null)
        {
            runner.LastContactAt = Now;
            // A listener heard from again is online again (it shows offline while silent: MarkSilentRunnersOffline).
            runner.Online = runner.RedeemedAt is not null && runner.RemovedAt is null;
        }

        return runner;
    }

    /// <summary>How long an idle runner may go without a request before it shows offline; see
    /// <see cref="MarkSilentRunnersOffline"/>.</summary>
    public TimeSpan RunnerOfflineAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An idle runner that stopped polling for jobs (its process died, its VM powered off) shows offline once it has
    /// been silent past <see cref="RunnerOfflineAfter"/>, as GitHub shows a runner whose listener's long poll (50 s there)
    /// lapsed without a new one; it stays registered and is online again at its next request. A busy runner's silence is
    /// <see cref="FailLostRunners"/>' to judge.</summary>
    public void MarkSilentRunnersOffline()
    {
        lock (_gate)
        {
            var now = Now;
            foreach (var runner in _runners.Values.Where(r => r.Online && !r.Busy && now - (r.LastContactAt ?? r.RedeemedAt ?? now) > RunnerOfflineAfter))
            {
                runner.Online = false;
            }
        }
    }

    /// <summary>How long a busy runner may stay silent before its job fails as GitHub's do ("lost communication with the
    /// server"); the fake runner reports every second while it works.</summary>
    public TimeSpan LostRunnerTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Fails the job of every busy runner silent past <see cref="LostRunnerTimeout"/>; the runner goes offline,
    /// still registered (GitHub removes offline ephemeral runners only after a day).</summary>
    public void FailLostRunners()
    {
        var events = new List<WorkflowJobEvent>();
        lock (_gate)
        {
            var now = Now;
            foreach (var runner in _runners.Values.Where(r => r.Busy && r.JobId is not null && now - (r.LastContactAt ?? r.RedeemedAt ?? now) > LostRunnerTimeout))
            {
                var job = _jobs[runner.JobId!.Value];
                runner.Busy = false;
                runner.Online = false;
                runner.SessionToken = null;
                if (job.Status != "in_progress")
                {
                    continue;
                }

                job.Status = "completed";
                job.Conclusion = "failure";
                job.CompletedAt = now;
                UpdateRun(job.Run);
                events.Add(JobEvent("completed", job));
            }
            if (events.Count > 0)
            {
                Pulse();
            }
        }
        foreach (var e in events)
        {
            JobChanged?.Invoke(e);
        }

        RaiseReleased();
    }
}
