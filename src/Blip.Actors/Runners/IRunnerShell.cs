namespace Blip.Actors.Runners;

/// <summary>Starts the JIT runner on a VM. Implemented over SSH (SSH.NET) with the VM's host key pinned.</summary>
public interface IRunnerShell
{
    /// <summary>Starts <c>run.sh</c> detached; the JIT config travels only on the channel's stdin.
    /// Throws <see cref="RunnerShellException"/>.</summary>
    Task StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct);
}

/// <param name="HostKey">The pinned key, <c>ssh-ed25519 AAAA…</c> from <c>blip.io/host-key</c>.</param>
public sealed record RunnerTarget(string VmName, string Address, string HostKey);

public enum RunnerShellFailure
{
    /// <summary>Refused, timed out, reset: worth another attempt.</summary>
    Unreachable,

    /// <summary>The VM presented a key other than the pinned one: never trusted, never retried.</summary>
    HostKeyMismatch,

    /// <summary>The client key was refused.</summary>
    AuthenticationFailed,

    /// <summary>The runner dir or run.sh is missing, or run.sh exited at once.</summary>
    RunnerFailed,
}

public sealed class RunnerShellException(RunnerShellFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public RunnerShellFailure Failure { get; } = failure;
}
