using System.Security.Cryptography;
using System.Text;

namespace Blip.Sandbox.GitHub;

/// <summary>
/// Everything the emulated GitHub knows: repos, runs, jobs, runners, PATs. One lock guards it all;
/// every public method takes it. Runner semantics follow GitHub: a redeemed runner takes the oldest
/// queued job of its repo whose labels its own labels cover, whichever job it was created for.
/// </summary>
internal sealed class GitHubWorld
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly int _defaultRateLimit;
    private readonly Dictionary<string, EmulatedRepo> _repos = new(StringComparer.OrdinalIgnoreCase);
    private readonly SortedDictionary<long, EmulatedRun> _runs = [];
    private readonly SortedDictionary<long, EmulatedJob> _jobs = [];
    private readonly SortedDictionary<long, EmulatedRunner> _runners = [];
    private readonly Dictionary<string, PatGrant> _pats = new(StringComparer.Ordinal);
    private readonly List<string> _issuedPats = [];
    private readonly List<string> _issuedJitConfigs = [];
    private TaskCompletionSource _changed = NewSignal();
    private long _nextRepoId = 100_000_001;
    private long _nextRunId = 7_000_000_001;
    private long _nextJobId = 10_000_000_001;
    private long _nextRunnerId = 100_001;

    public GitHubWorld(TimeProvider time, int defaultRateLimit, IEnumerable<string> repos)
    {
        _time = time;
        _defaultRateLimit = defaultRateLimit;
        foreach (var repo in repos) EnsureRepo(repo);
    }

    /// <summary>Raised (outside the lock) after a job changes state; feeds webhook delivery.</summary>
    public event Action<WorkflowJobEvent>? JobChanged;

    private DateTimeOffset Now => _time.GetUtcNow();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // ---- repos and tokens -------------------------------------------------------------

    public EmulatedRepo? FindRepo(string owner, string name)
    {
        lock (_gate) return _repos.GetValueOrDefault($"{owner}/{name}");
    }

    private EmulatedRepo EnsureRepo(string fullName)
    {
        var parts = fullName.Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw new ArgumentException($"repo '{fullName}' is not owner/name", nameof(fullName));
        if (_repos.TryGetValue(fullName, out var existing)) return existing;
        var repo = new EmulatedRepo(_nextRepoId++, parts[0], parts[1]);
        _repos[repo.FullName] = repo;
        return repo;
    }

    public string CreateToken(CreateTokenRequest request)
    {
        var actions = ParseLevel(request.Actions, "actions", "read", "none");
        var administration = ParseLevel(request.Administration, "administration", "write", "read", "none");
        var token = "ghp_" + RandomAlphanumeric(36);
        lock (_gate)
        {
            var all = request.Repos.Contains("*");
            foreach (var repo in request.Repos.Where(r => r != "*")) EnsureRepo(repo);
            _pats[token] = new PatGrant(
                token,
                all,
                new HashSet<string>(request.Repos.Where(r => r != "*"), StringComparer.OrdinalIgnoreCase),
                actions,
                administration,
                request.RateLimitPerHour ?? _defaultRateLimit);
            _issuedPats.Add(token);
        }
        return token;
    }

    private static string ParseLevel(string value, string what, params string[] allowed) =>
        allowed.Contains(value, StringComparer.Ordinal)
            ? value
            : throw new ArgumentException($"{what} must be one of {string.Join(", ", allowed)}, not '{value}'");

    public PatGrant? FindToken(string token)
    {
        lock (_gate) return _pats.GetValueOrDefault(token);
    }

    /// <summary>Charges one call to the token's primary budget. False (and nothing charged) when it is spent.</summary>
    public bool TryCharge(PatGrant pat, out RateLimitSnapshot snapshot)
    {
        lock (_gate)
        {
            RollWindow(pat);
            if (pat.Used >= pat.Limit)
            {
                snapshot = Snapshot(pat);
                return false;
            }
            pat.Used++;
            snapshot = Snapshot(pat);
            return true;
        }
    }

    /// <summary>Gives a charge back: a 304 is free.</summary>
    public RateLimitSnapshot Refund(PatGrant pat)
    {
        lock (_gate)
        {
            if (pat.Used > 0) pat.Used--;
            return Snapshot(pat);
        }
    }

    public RateLimitSnapshot PeekRateLimit(PatGrant pat)
    {
        lock (_gate)
        {
            RollWindow(pat);
            return Snapshot(pat);
        }
    }

    public bool SetBudget(string token, int remaining, int resetSeconds)
    {
        lock (_gate)
        {
            if (!_pats.TryGetValue(token, out var pat)) return false;
            pat.Used = Math.Clamp(pat.Limit - remaining, 0, pat.Limit);
            pat.ResetAt = Now.AddSeconds(resetSeconds);
            return true;
        }
    }

    private void RollWindow(PatGrant pat)
    {
        var now = Now;
        if (pat.ResetAt is { } reset && now < reset) return;
        pat.Used = 0;
        pat.ResetAt = now.AddHours(1);
    }

    private static RateLimitSnapshot Snapshot(PatGrant pat) =>
        new(pat.Limit, pat.Limit - pat.Used, pat.Used, pat.ResetAt!.Value.ToUnixTimeSeconds());

    public SandboxSecrets Secrets()
    {
        lock (_gate) return new SandboxSecrets([.. _issuedPats], [.. _issuedJitConfigs]);
    }

    // ---- runs and jobs ----------------------------------------------------------------

    public QueuedJob QueueJob(QueueJobRequest request)
    {
        if (request.Labels is null || request.Labels.Count == 0) throw new ArgumentException("labels must not be empty");
        if (request.DurationSeconds < 0) throw new ArgumentException("durationSeconds must not be negative");
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
                    throw new ArgumentException($"run {runId} does not exist in {repo.FullName}");
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
        foreach (var e in events) JobChanged?.Invoke(e);
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
        if (status != run.Status) run.UpdatedAt = Now;
        if (status == "in_progress" && run.StartedAt is null) run.StartedAt = Now;
        var finished = status == "completed" && run.Status != "completed";
        if (status == "completed") run.Pending = false;
        run.Status = status;
        run.Conclusion = status != "completed" ? null
            : jobs.Any(j => j.Conclusion == "failure") ? "failure"
            : jobs.Any(j => j.Conclusion == "cancelled") ? "cancelled"
            : "success";
        if (finished && run.ConcurrencyGroup is { } group) ReleasePending(run.Repo, group);
    }

    private IEnumerable<EmulatedRun> InGroup(EmulatedRepo repo, string group) =>
        _runs.Values.Where(r => r.Repo == repo && string.Equals(r.ConcurrencyGroup, group, StringComparison.OrdinalIgnoreCase));

    /// <summary>The group's active run completed: its pending run is queued (a <c>queued</c> delivery per job, raised by
    /// <see cref="RaiseReleased"/> once the lock is let go).</summary>
    private void ReleasePending(EmulatedRepo repo, string group)
    {
        if (InGroup(repo, group).Any(r => !r.Pending && r.Status != "completed")) return;
        if (InGroup(repo, group).FirstOrDefault(r => r.Pending) is not { } next) return;
        next.Pending = false;
        foreach (var job in next.JobIds.Select(id => _jobs[id]).Where(j => j.Status == "pending"))
        {
            job.Status = "queued";
            _released.Add(JobEvent("queued", job));
        }
        UpdateRun(next);
        Pulse();
    }

    private readonly List<WorkflowJobEvent> _released = [];

    /// <summary>Delivers the jobs queued by <see cref="ReleasePending"/>, after the change that released them.</summary>
    private void RaiseReleased()
    {
        List<WorkflowJobEvent> released;
        lock (_gate)
        {
            released = [.. _released];
            _released.Clear();
        }
        foreach (var e in released) JobChanged?.Invoke(e);
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
        lock (_gate) return _runs.TryGetValue(runId, out var run) && run.Repo == repo ? run.Copy() : null;
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
        lock (_gate) return _jobs.TryGetValue(jobId, out var job) ? job.Copy() : null;
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
            if (!_jobs.TryGetValue(jobId, out var job)) return false;
            if (job.Status == "waiting")
            {
                job.Status = "queued";
                UpdateRun(job.Run);
                queued = JobEvent("queued", job);
                Pulse();
            }
        }
        if (queued is not null) JobChanged?.Invoke(queued);
        return true;
    }

    /// <summary>Cancels a queued or running job; a runner busy with it is deregistered. False when unknown.</summary>
    public bool CancelJob(long jobId)
    {
        WorkflowJobEvent? completed = null;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job)) return false;
            if (job.Status != "completed")
            {
                job.Status = "completed";
                job.Conclusion = "cancelled";
                job.CompletedAt = Now;
                if (job.RunnerId is { } runnerId && _runners.TryGetValue(runnerId, out var runner)) Deregister(runner);
                UpdateRun(job.Run);
                completed = JobEvent("completed", job);
                Pulse();
            }
        }
        if (completed is not null) JobChanged?.Invoke(completed);
        RaiseReleased();
        return true;
    }

    // ---- runners ------------------------------------------------------------------------

    public enum JitOutcome { Created, DuplicateName }

    /// <summary>Registers an ephemeral runner (offline until redeemed) and issues its JIT config.</summary>
    public JitOutcome GenerateJitConfig(
        EmulatedRepo repo, string name, string[] labels, Uri emulatorUrl, out EmulatedRunner? runner, out string? encodedJitConfig)
    {
        lock (_gate)
        {
            if (_runners.Values.Any(r => r.Repo == repo && r.RemovedAt is null && string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                runner = null;
                encodedJitConfig = null;
                return JitOutcome.DuplicateName;
            }
            var secret = RandomAlphanumeric(40);
            var created = new EmulatedRunner(_nextRunnerId++, repo, name, labels, secret, Now);
            _runners[created.Id] = created;
            // Opaque to everyone but this emulator and its fake runner: "blip-jit-v1 <url> <runnerId> <secret>".
            encodedJitConfig = Convert.ToBase64String(Encoding.UTF8.GetBytes(
                $"blip-jit-v1 {emulatorUrl.ToString().TrimEnd('/')} {created.Id} {secret}"));
            _issuedJitConfigs.Add(encodedJitConfig);
            runner = created.Copy();
            return JitOutcome.Created;
        }
    }

    public IReadOnlyList<EmulatedRunner> Runners(EmulatedRepo? repo, bool includeRemoved)
    {
        lock (_gate)
        {
            return _runners.Values
                .Where(r => (repo is null || r.Repo == repo) && (includeRemoved || r.RemovedAt is null))
                .Select(r => r.Copy())
                .ToList();
        }
    }

    public EmulatedRunner? Runner(EmulatedRepo repo, long runnerId)
    {
        lock (_gate)
        {
            return _runners.TryGetValue(runnerId, out var r) && r.Repo == repo && r.RemovedAt is null ? r.Copy() : null;
        }
    }

    public enum DeleteOutcome { Deleted, NotFound, Busy }

    public DeleteOutcome DeleteRunner(EmulatedRepo repo, long runnerId)
    {
        lock (_gate)
        {
            if (!_runners.TryGetValue(runnerId, out var runner) || runner.Repo != repo || runner.RemovedAt is not null)
                return DeleteOutcome.NotFound;
            if (runner.Busy) return DeleteOutcome.Busy;
            Deregister(runner);
            Pulse();
            return DeleteOutcome.Deleted;
        }
    }

    private void Deregister(EmulatedRunner runner)
    {
        runner.RemovedAt ??= Now;
        runner.Busy = false;
        runner.Online = false;
    }

    // ---- the runner protocol (/_runner/*) -----------------------------------------------

    /// <summary>Redeems a JIT config's secret, once. Returns the runner's session token, or an error text.</summary>
    public bool Redeem(long runnerId, string secret, out string sessionOrError, out string runnerName)
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
            if (runner is null || (runner.RemovedAt is not null && runner.JobId is null)) return AcquireOutcome.Gone;
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
            if (candidate is null) return AcquireOutcome.NoJobYet;
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
            if (runner is null) return null;
            if (runner.JobId is not { } jobId) return runner.RemovedAt is null ? "idle" : null;
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
            if (runner?.JobId is not { } jobId) return CompleteOutcome.Gone;
            var job = _jobs[jobId];
            Deregister(runner);
            Pulse();
            // A repeated complete (its first reply lost) finds the job done already.
            if (job.Status != "in_progress") return job.Conclusion == "success" ? CompleteOutcome.Completed : CompleteOutcome.Cancelled;
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
        if (runner is not null) runner.LastContactAt = Now;
        return runner;
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
                if (job.Status != "in_progress") continue;
                job.Status = "completed";
                job.Conclusion = "failure";
                job.CompletedAt = now;
                UpdateRun(job.Run);
                events.Add(JobEvent("completed", job));
            }
            if (events.Count > 0) Pulse();
        }
        foreach (var e in events) JobChanged?.Invoke(e);
        RaiseReleased();
    }

    private void Pulse()
    {
        var old = _changed;
        _changed = NewSignal();
        old.TrySetResult();
    }

    private static WorkflowJobEvent JobEvent(string action, EmulatedJob job) => new(action, job.Copy());

    private static string RandomAlphanumeric(int length) =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", length);
}

internal sealed record WorkflowJobEvent(string Action, EmulatedJob Job);

internal sealed record RateLimitSnapshot(int Limit, int Remaining, int Used, long ResetEpochSeconds);

internal sealed class EmulatedRepo(long id, string owner, string name)
{
    public long Id { get; } = id;
    public string Owner { get; } = owner;
    public string Name { get; } = name;
    public string FullName => $"{Owner}/{Name}";
}

internal sealed class PatGrant(string token, bool allRepos, HashSet<string> repos, string actions, string administration, int limit)
{
    public string Token { get; } = token;
    public bool AllRepos { get; } = allRepos;
    public HashSet<string> Repos { get; } = repos;
    public string Actions { get; } = actions;
    public string Administration { get; } = administration;
    public int Limit { get; } = limit;
    public int Used { get; set; }
    public DateTimeOffset? ResetAt { get; set; }

    public bool CanSee(EmulatedRepo repo) => AllRepos || Repos.Contains(repo.FullName);
}

internal sealed class EmulatedRun(long id, EmulatedRepo repo, DateTimeOffset createdAt, int runNumber)
{
    public long Id { get; } = id;
    public EmulatedRepo Repo { get; } = repo;
    public int RunNumber { get; } = runNumber;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public DateTimeOffset UpdatedAt { get; set; } = createdAt;
    public DateTimeOffset? StartedAt { get; set; }
    public string Status { get; set; } = "queued";
    public string? Conclusion { get; set; }
    public List<long> JobIds { get; private init; } = [];

    /// <summary>The workflow's concurrency group (case-insensitive, as GitHub's); null for none.</summary>
    public string? ConcurrencyGroup { get; init; }

    /// <summary>Waiting for its concurrency group: status <c>pending</c>, its jobs <c>pending</c>, until the group's active run completes.</summary>
    public bool Pending { get; set; }

    public EmulatedRun Copy() => new(Id, Repo, CreatedAt, RunNumber)
    {
        UpdatedAt = UpdatedAt, StartedAt = StartedAt, Status = Status, Conclusion = Conclusion, JobIds = [.. JobIds],
        ConcurrencyGroup = ConcurrencyGroup, Pending = Pending,
    };
}

internal sealed class EmulatedJob(long id, EmulatedRun run, string name, string[] labels, int durationSeconds, DateTimeOffset createdAt)
{
    public long Id { get; } = id;
    public EmulatedRun Run { get; } = run;
    public string Name { get; } = name;
    public string[] Labels { get; } = labels;
    public int DurationSeconds { get; } = durationSeconds;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public string Status { get; set; } = "queued";
    public string? Conclusion { get; set; }
    public long? RunnerId { get; set; }
    public string? RunnerName { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }

    public EmulatedJob Copy() => new(Id, Run, Name, Labels, DurationSeconds, CreatedAt)
    {
        Status = Status, Conclusion = Conclusion, RunnerId = RunnerId, RunnerName = RunnerName,
        StartedAt = StartedAt, CompletedAt = CompletedAt,
    };

    public SandboxJob ToSandbox() => new(
        Id, Run.Id, Run.Repo.FullName, Name, Status, Conclusion, Labels, DurationSeconds,
        RunnerId, RunnerName, CreatedAt, StartedAt, CompletedAt);
}

internal sealed class EmulatedRunner(long id, EmulatedRepo repo, string name, string[] labels, string redeemSecret, DateTimeOffset registeredAt)
{
    public long Id { get; } = id;
    public EmulatedRepo Repo { get; } = repo;
    public string Name { get; } = name;
    public string[] Labels { get; } = labels;
    public string RedeemSecret { get; } = redeemSecret;
    public DateTimeOffset RegisteredAt { get; } = registeredAt;
    public DateTimeOffset? RedeemedAt { get; set; }
    public DateTimeOffset? RemovedAt { get; set; }
    public DateTimeOffset? LastContactAt { get; set; }
    public bool Online { get; set; }
    public bool Busy { get; set; }
    public long? JobId { get; set; }
    public string? SessionToken { get; set; }

    public EmulatedRunner Copy() => new(Id, Repo, Name, Labels, RedeemSecret, RegisteredAt)
    {
        RedeemedAt = RedeemedAt, RemovedAt = RemovedAt, LastContactAt = LastContactAt, Online = Online, Busy = Busy, JobId = JobId, SessionToken = SessionToken,
    };

    public SandboxRunner ToSandbox() => new(
        Id, Repo.FullName, Name, Labels, Online ? "online" : "offline", Busy, true, JobId, RegisteredAt, RedeemedAt, RemovedAt);
}
