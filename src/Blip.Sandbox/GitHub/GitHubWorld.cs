using System.Security.Cryptography;

namespace Blip.Sandbox.GitHub;

/// <summary>
/// Everything the emulated GitHub knows: repos, runs, jobs, runners, PATs. One lock guards it all;
/// every public method takes it. Runner semantics follow GitHub: a redeemed runner takes the oldest
/// queued job of its repo whose labels its own labels cover, whichever job it was created for.
/// </summary>
/// <remarks>
/// The state is split by concern over partial files, all under the one lock: repos, the change signal and the issued
/// secrets here; <c>GitHubWorld.Tokens.cs</c> PATs and their primary rate budgets; <c>GitHubWorld.Runs.cs</c> runs and
/// jobs (approvals, cancels, concurrency groups); <c>GitHubWorld.Runners.cs</c> runner registrations and JIT configs;
/// <c>GitHubWorld.RunnerProtocol.cs</c> what a redeemed runner does (<c>/_runner/*</c>) and lost runners. The entities
/// are in <c>EmulatedEntities.cs</c>.
/// </remarks>
internal sealed partial class GitHubWorld
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, EmulatedRepo> _repos = new(StringComparer.OrdinalIgnoreCase);
    private TaskCompletionSource _changed = NewSignal();
    private long _nextRepoId = 100_000_001;

    public GitHubWorld(TimeProvider time, int defaultRateLimit, IEnumerable<string> repos)
    {
        _time = time;
        _defaultRateLimit = defaultRateLimit;
        foreach (var repo in repos)
        {
            EnsureRepo(repo);
        }
    }

    /// <summary>Raised (outside the lock) after a job changes state; feeds webhook delivery.</summary>
    public event Action<WorkflowJobEvent>? JobChanged;

    private DateTimeOffset Now => _time.GetUtcNow();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // ---- repos ------------------------------------------------------------------------

    public EmulatedRepo? FindRepo(string owner, string name)
    {
        lock (_gate)
        {
            return _repos.GetValueOrDefault($"{owner}/{name}");
        }
    }

    private EmulatedRepo EnsureRepo(string fullName)
    {
        var parts = fullName.Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new ArgumentException($"repo '{fullName}' is not owner/name", nameof(fullName));
        }

        if (_repos.TryGetValue(fullName, out var existing))
        {
            return existing;
        }

        var repo = new EmulatedRepo(_nextRepoId++, parts[0], parts[1]);
        _repos[repo.FullName] = repo;
        return repo;
    }

    public SandboxSecrets Secrets()
    {
        lock (_gate)
        {
            return new SandboxSecrets([.. _issuedPats], [.. _issuedJitConfigs], [.. _issuedInstallationTokens], [.. _acceptedJwts], [.. _appPrivateKeys]);
        }
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
