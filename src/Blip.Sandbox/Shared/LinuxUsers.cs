namespace Blip.Sandbox.Shared;

/// <summary>Small facts about local users from /etc/passwd, and chown through the chown tool.</summary>
public static class LinuxUsers
{
    public sealed record User(string Name, int Uid, int Gid, string Home);

    public static User? Find(string name) =>
        File.ReadLines("/etc/passwd")
            .Select(l => l.Split(':'))
            .Where(f => f.Length >= 7 && f[0] == name)
            .Select(f => new User(f[0], int.Parse(f[2]), int.Parse(f[3]), f[5]))
            .FirstOrDefault();

    /// <summary>Whether the account's password field is locked ("!…"), which sshd with UsePAM no refuses.</summary>
    public static bool IsLocked(string name) =>
        File.ReadLines("/etc/shadow").Select(l => l.Split(':')).Any(f => f.Length > 1 && f[0] == name && f[1].StartsWith('!'));

    /// <summary>rw-r--r--: what sshd reads as another user (authorized_keys).</summary>
    public const UnixFileMode Mode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>rwxr-xr-x: directories and scripts the runner user reaches.</summary>
    public const UnixFileMode Mode755 = Mode644 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>chmod; the sandbox VMs only exist on Linux, where this always applies.</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    public static async Task ChownAsync(string path, string user, bool recursive = false, CancellationToken ct = default)
    {
        var args = new List<string>();
        if (recursive)
        {
            args.Add("-R");
        }

        args.Add($"{user}:{user}");
        args.Add(path);
        (await ProcessRunner.RunAsync("chown", args, ct: ct)).EnsureSuccess($"chown {path}");
    }
}
