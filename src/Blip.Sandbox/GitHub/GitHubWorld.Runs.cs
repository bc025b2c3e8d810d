namespace Blip.Sandbox.GitHub;

/// <summary>Runs and their jobs: queueing, approval, cancelling, a run's status and its concurrency group.</summary>
internal sealed partial class GitHubWorld
{
    private readonly SortedDictionary<long, EmulatedRun> _runs = [];
    private readonly SortedDictionary<long, EmulatedJob> _jobs = [];
    private readonly List<WorkflowJobEvent> _released = [];
    private long _nextRunId = 7_000_000_001;
    private long _nextJobId = 10_000_000_001;

    public QueuedJob QueueJob(QueueJobRequest request)
    {
        if (request.Labels is null || request.Labels.Count == 0)
        {
            throw new ArgumentException("labels must not be empty");
        }

        if (request.DurationSeconds < 0)
        {
            throw new ArgumentException("durationSeconds must not be negative");
        }

        var events = new List<WorkflowJobEvent>();
        QueuedJob result;
        lock (_gate)
        {
            var repo = EnsureRepo(request.Repo);
            var now = Now;
            EmulatedRun run;
            if (request.RunId is { } runId)
            {
                if (!_runs.TryGetValue(runId, out var existing) || existing.Repo != repo)
                {
                    throw new ArgumentException($"run {runId} does not exist in {repo.FullName}");
                }

                run = existing;
            }
            else
            {
                run = new EmulatedRun(_nextRunId++, repo, now, _runs.Count(r => r.Value.Repo == repo) + 1) { ConcurrencyGroup = request.ConcurrencyGroup };
                _runs[run.Id] = run;
                if (request.ConcurrencyGroup is { } group && InGroup(repo, group).Any(r => r != run && !r.Pending && r.Status != "completed"))
                {
                    // GitHub: "at most one running and one pending job in a concurrency group": this run waits, and a run
                    // that was pending before it is cancelled (its jobs were never queued, so nothing is delivered).
                    foreach (var older in InGroup(repo, group).Where(r => r != run && r.Pending).ToList())
                    {
                        older.Pending = false;
                        foreach (var id in older.JobIds.Where(id => _jobs[id].Status == "pending"))
                        {
                            _jobs[id].Status = "completed";
                            _jobs[id].Conclusion = "cancelled";
                            _jobs[id].CompletedAt = now;
                        }
                        UpdateRun(older);
                    }
                    run.Pending = true;
                }
                if (request.RunInProgress)
                {
                    // A first job already done, as when the queued job `needs:` it.
                    var first = NewJob(run, "setup", ["ubuntu-latest"], 0, now);
                    first.Status = "completed";
                    first.Conclusion = "success";
                    first.StartedAt = now;
                    first.CompletedAt = now;
                }
            }
            var job = NewJob(run, request.Name ?? $"job-{run.JobIds.Count + 1}", [.. request.Labels], request.DurationSeconds, now);
            if (run.Pending)
            {
                job.Status = "pending";
            }
            else if (request.Waiting)
            {
                // Behind an environment protection rule: GitHub sends action queued with status waiting, then action waiting.
                job.Status = "waiting";
                events.Add(JobEvent("queued", job));
                events.Add(JobEvent("waiting", job));
            }
            else
            {
                events.Add(JobEvent("queued", job));
            }
            UpdateRun(run);
            result = new QueuedJob(run.Id, job.Id);
            Pulse();
        }
        foreach (var e in events)
        {
            JobChanged?.Invoke(e);
        }

        return result;
    }

    private EmulatedJob NewJob(EmulatedRun run, string name, string[] labels, int duration, DateTimeOffset now)
    {
        var job = new EmulatedJob(_nextJobId++, run, name, labels, duration, now);
        _jobs[job.Id] = job;
        run.JobIds.Add(job.Id);
        return job;
    }

    private void UpdateRun(EmulatedRun run)
    {
        var jobs = run.JobIds.Select(id => _jobs[id]).ToList();
        // A job awaiting approval makes the run waiting, even while other jobs of it are queued (GitHub: "The workflow run
        // is waiting for a deployment protection rule to be satisfied"); only a running job makes it in_progress again.
        var status = jobs.All(j => j.Status == "completed") ? "completed"
            : run.Pending ? "pending"
            : jobs.Any(j => j.Status == "in_progress") ? "in_progress"
            : jobs.Any(j => j.Status == "waiting") ? "waiting"
            : jobs.All(j => j.Status == "queued") ? "queued"
            : "in_progress";
        if (status != run.Status)
        {
            run.UpdatedAt = Now;
        }

        if (status == "in_progress" && run.StartedAt is null)
        {
            run.StartedAt = Now;
        }

        var finished = status == "completed" && run.Status != "completed";
        if (status == "completed")
        {
            run.Pending = false;
        }

        run.Status = status;
        run.Conclusion = status != "completed" ? null
            : jobs.Any(j => j.Conclusion == "failure") ? "failure"
            : jobs.Any(j => j.Conclusion == "cancelled") ? "cancelled"
            : "success";
        if (finished && run.ConcurrencyGroup is { } group)
        {
            ReleasePending(run.Repo, group);
        }
    }

    private IEnumerable<EmulatedRun> InGroup(EmulatedRepo repo, string group) =>
        _runs.Values.Where(r => r.Repo == repo && string.Equals(r.ConcurrencyGroup, group, StringComparison.OrdinalIgnoreCase));

    /// <summary>The group's active run completed: its pending run is queued (a <c>queued</c> delivery per job, raised by
    /// <see cref="RaiseReleased"/> once the lock is let go).</summary>
    private void ReleasePending(EmulatedRepo repo, string group)
    {
        if (InGroup(repo, group).Any(r => !r.Pending && r.Status != "completed"))
        {
            return;
        }

        if (InGroup(repo, group).FirstOrDefault(r => r.Pending) is not { } next)
        {
            return;
        }

        next.Pending = false;
        foreach (var job in next.JobIds.Select(id => _jobs[id]).Where(j => j.Status == "pending"))
        {
            job.Status = "queued";
            _released.Add(JobEvent("queued", job));
        }
        UpdateRun(next);
        Pulse();
    }
    /// <summary>Delivers the jobs queued by <see cref="ReleasePending"/>, after the change that released them.</summary>
    private void RaiseReleased()
    {
        List<WorkflowJobEvent> released;
        lock (_gate)
        {
            released = [.. _released];
            _released.Clear();
        }
        foreach (var e in released)
        {
            JobChanged?.Invoke(e);
        }
    }

    public IReadOnlyList<EmulatedRun> Runs(EmulatedRepo repo, string? status)
    {
        lock (_gate)
        {
            return _runs.Values
                .Where(r => r.Repo == repo && (status is null || r.Status == status || r.Conclusion == status))
                .OrderByDescending(r => r.Id)
                .Select(r => r.Copy())
                .ToList();
        }
    }

    public EmulatedRun? Run(EmulatedRepo repo, long runId)
    {
        lock (_gate)
        {
            return _runs.TryGetValue(runId, out var run) && run.Repo == repo ? run.Copy() : null;
        }
    }

    public IReadOnlyList<EmulatedJob> JobsOfRun(long runId)
    {
        lock (_gate)
        {
            return _runs.TryGetValue(runId, out var run) ? run.JobIds.Select(id => _jobs[id].Copy()).ToList() : [];
        }
    }

    public EmulatedJob? Job(long jobId)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(jobId, out var job) ? job.Copy() : null;
        }
    }

    public IReadOnlyList<EmulatedJob> Jobs(string? repo)
    {
        lock (_gate)
        {
            return _jobs.Values
                .Where(j => repo is null || string.Equals(j.Run.Repo.FullName, repo, StringComparison.OrdinalIgnoreCase))
                .Select(j => j.Copy())
                .ToList();
        }
    }

    /// <summary>Approves a job waiting behind an environment protection rule: it becomes queued (a <c>queued</c> delivery).
    /// False when unknown; a job not waiting is left as it is.</summary>
    public bool ApproveJob(long jobId)
    {
        WorkflowJobEvent? queued = null;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job))
            {
                return false;
            }

            if (job.Status == "waiting")
            {
                job.Status = "queued";
                UpdateRun(job.Run);
                queued = JobEvent("queued", job);
                Pulse();
            }
        }
        if (queued is not null)
        {
            JobChanged?.Invoke(queued);
        }

        return true;
    }

    /// <summary>Cancels a queued or running job; a runner busy with it is deregistered. False when unknown.</summary>
    public bool CancelJob(long jobId)
    {
        WorkflowJobEvent? completed = null;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job))
            {
                return false;
            }

            if (job.Status != "completed")
            {
                job.Status = "completed";
                job.Conclusion = "cancelled";
                job.CompletedAt = Now;
                if (job.RunnerId is { } runnerId && _runners.TryGetValue(runnerId, out var runner))
                {
                    Deregister(runner);
                }

                UpdateRun(job.Run);
                completed = JobEvent("completed", job);
                Pulse();
            }
        }
        if (completed is not null)
        {
            JobChanged?.Invoke(completed);
        }

        RaiseReleased();
        return true;
    }
}
