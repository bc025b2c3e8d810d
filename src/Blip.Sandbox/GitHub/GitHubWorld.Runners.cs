using System.Text;

namespace Blip.Sandbox.GitHub;

/// <summary>Runner registrations: JIT configs issued, runners listed and deleted.</summary>
internal sealed partial class GitHubWorld
{
    private readonly SortedDictionary<long, EmulatedRunner> _runners = [];
    private readonly List<string> _issuedJitConfigs = [];
    private long _nextRunnerId = 100_001;

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
            {
                return DeleteOutcome.NotFound;
            }

            if (runner.Busy)
            {
                return DeleteOutcome.Busy;
            }

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
}
