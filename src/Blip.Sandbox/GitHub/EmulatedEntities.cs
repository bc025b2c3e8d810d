namespace Blip.Sandbox.GitHub;

// The emulated GitHub's entities, held by GitHubWorld and changed only under its lock; runs, jobs and runners leave it
// as copies (Copy()).

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

    /// <summary>The grant of a GitHub App installation (its tokens share it and its budget), not of a PAT.</summary>
    public bool Integration { get; init; }

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
        UpdatedAt = UpdatedAt,
        StartedAt = StartedAt,
        Status = Status,
        Conclusion = Conclusion,
        JobIds = [.. JobIds],
        ConcurrencyGroup = ConcurrencyGroup,
        Pending = Pending,
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
        Status = Status,
        Conclusion = Conclusion,
        RunnerId = RunnerId,
        RunnerName = RunnerName,
        StartedAt = StartedAt,
        CompletedAt = CompletedAt,
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
        RedeemedAt = RedeemedAt,
        RemovedAt = RemovedAt,
        LastContactAt = LastContactAt,
        Online = Online,
        Busy = Busy,
        JobId = JobId,
        SessionToken = SessionToken,
    };

    public SandboxRunner ToSandbox() => new(
        Id, Repo.FullName, Name, Labels, Online ? "online" : "offline", Busy, true, JobId, RegisteredAt, RedeemedAt, RemovedAt);
}
