using Blip.Sandbox.Shared;

namespace Blip.Sandbox.Cli;

/// <summary>The system packages the sandbox VMs need, and the PostgreSQL server for <c>--store postgres</c> (as
/// .ci/prereqs): installed once as root on Debian, named in one line anywhere else. An installed package is never upgraded.</summary>
public static class Prerequisites
{
    /// <summary>Null when everything is there (or was just installed); else the line to print.</summary>
    public static async Task<string?> EnsureAsync(TextWriter progress, bool postgresServer, CancellationToken ct)
    {
        var missing = new List<string>();
        if (postgresServer && Postgres.PrivatePostgres.FindServerBinaries() is null)
        {
            missing.Add("postgresql");
        }

        if (!File.Exists("/usr/sbin/sshd"))
        {
            missing.Add("openssh-server");
        }

        if (!OnPath("ssh-keygen"))
        {
            missing.Add("openssh-client");
        }
        // The fake runner in each VM talks to the GitHub emulator with curl.
        if (!OnPath("curl"))
        {
            missing.Add("curl");
        }

        if (missing.Count == 0)
        {
            return null;
        }

        var names = string.Join(' ', missing);
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
        {
            return $"blip-sandbox: the sandbox needs {names}; install it first (e.g. apt-get install {names})";
        }

        progress.WriteLine($"installing {names} (once, without upgrading anything installed)…");
        var env = new[] { "DEBIAN_FRONTEND=noninteractive" };
        var update = await ProcessRunner.RunAsync("/usr/bin/env", [.. env, "apt-get", "update", "-qq"], TimeSpan.FromMinutes(5), ct);
        if (update.ExitCode != 0)
        {
            return $"blip-sandbox: apt-get update failed ({update.StandardError.Trim()}); install {names} yourself";
        }

        var install = await ProcessRunner.RunAsync("/usr/bin/env",
            [.. env, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "--no-upgrade", .. missing], TimeSpan.FromMinutes(10), ct);
        if (install.ExitCode != 0)
        {
            return $"blip-sandbox: apt-get install {names} failed ({install.StandardError.Trim()}); install it yourself";
        }

        if (postgresServer && Postgres.PrivatePostgres.FindServerBinaries() is null)
        {
            return $"blip-sandbox: the PostgreSQL server is still missing after installing {names}";
        }

        return File.Exists("/usr/sbin/sshd") ? null : $"blip-sandbox: /usr/sbin/sshd is still missing after installing {names}";
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Any(dir => File.Exists(Path.Combine(dir, tool)));
}
