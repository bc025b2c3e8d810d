namespace Blip.Actors.Runners;

/// <summary>Starts the JIT runner on a VM. Implemented over SSH (SSH.NET) with the VM's host key pinned.</summary>
public interface IRunnerShell
{
    /// <summary>Reads the runner's version, then starts <c>run.sh</c> detached; the JIT config travels only on the
    /// channel's stdin. Throws <see cref="RunnerShellException"/>.</summary>
    Task<RunnerStart> StartRunnerAsync(RunnerTarget target, JitConfig config, CancellationToken ct);
}

/// <summary>A runner that started.</summary>
/// <param name="Version">What <c>bin/Runner.Listener --version</c> printed on the VM (null when it printed nothing usable).</param>
public sealed record RunnerStart(string? Version)
{
    public static readonly RunnerStart UnknownVersion = new((string?)null);
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

    /// <summary>run.sh exited at once (or the start script failed some other way).</summary>
    RunnerFailed,

    /// <summary>The runner dir (<c>Blip:RunnerDir</c>) does not exist on the VM.</summary>
    RunnerDirMissing,

    /// <summary><c>run.sh</c> is missing from the runner dir or not executable.</summary>
    RunScriptMissing,

    /// <summary>run.sh refused to start because it holds its lock already: a runner (started by an earlier attempt) runs on the VM.</summary>
    AlreadyRunning,

    /// <summary>The runner on the VM is too old: GitHub refused it ("Runner version vX is deprecated and cannot receive
    /// messages"; run.sh exits 7 for it), or it is below <c>Blip:RunnerMinimumVersion</c> and was not started.</summary>
    RunnerOutdated,
}

/// <param name="MayHaveStarted">The failure came after the start command was sent (the channel broke, stdin could not be
/// written, the command timed out): run.sh may be running. Decide from facts before giving the VM up.</param>
public sealed class RunnerShellException(RunnerShellFailure failure, string message, Exception? inner = null, bool mayHaveStarted = false) : Exception(message, inner)
{
    public RunnerShellFailure Failure { get; } = failure;

    /// <summary>The runner version read on the VM before the failure, if it was.</summary>
    public string? RunnerVersion { get; init; }

    public bool MayHaveStarted { get; } = mayHaveStarted;
}

/// <summary>The pinned host key of a VM, from its <c>blip.io/host-key</c> annotation.</summary>
public static class PinnedHostKey
{
    /// <summary>The key blob of <c>ssh-ed25519 AAAA… [comment]</c>, or null when it is not one.</summary>
    public static byte[]? Parse(string? annotation)
    {
        var parts = annotation?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: >= 2 } || parts[0] != "ssh-ed25519")
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(parts[1]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The error naming a malformed annotation (the annotation is public: it is shortened, not hidden).</summary>
    public static string Malformed(string vmName, string annotation) =>
        $"VM {vmName}: blip.io/host-key '{Shared.RepoName.Shorten(annotation, 60)}' is not an ssh-ed25519 key";
}
