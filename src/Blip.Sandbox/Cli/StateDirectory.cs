using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Blip.Sandbox.Cli;

/// <summary>
/// The sandbox's state directory, wiped at start. Only a directory that is new, empty or marked as a
/// sandbox's own (<see cref="MarkerFile"/>) is wiped, and never while another sandbox uses it. Processes a
/// killed sandbox left behind (sshd, fake runners, controllers: they name the directory in their command
/// line or environment) are ended first.
/// </summary>
public static class StateDirectory
{
    public const string MarkerFile = ".blip-sandbox";

    /// <summary>Prepares <paramref name="dir"/> for this run; null when done, else the error line.</summary>
    public static string? Prepare(string dir, TextWriter progress)
    {
        try
        {
            return PrepareOrThrow(dir, progress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"--state-dir '{dir}' cannot be used: {e.Message}";
        }
    }

    private static string? PrepareOrThrow(string dir, TextWriter progress)
    {
        if (File.Exists(dir))
        {
            return $"--state-dir '{dir}' is a file, not a directory";
        }

        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            var marker = Path.Combine(dir, MarkerFile);
            if (!File.Exists(marker))
            {
                return $"--state-dir '{dir}' is not empty and was not made by blip-sandbox; name a new or empty directory";
            }

            if (int.TryParse(File.ReadAllText(marker).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                && owner != Environment.ProcessId && IsSandbox(owner))
            {
                return $"--state-dir '{dir}' is in use by another blip-sandbox (pid {owner}); stop it or name another directory";
            }

            var leftovers = KillProcessesMentioning(dir);
            if (leftovers > 0)
            {
                progress.WriteLine($"ended {leftovers} processes a previous sandbox left in {dir}");
            }

            foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
            {
                // A symbolic link is removed, never followed out of the directory.
                if (Directory.Exists(entry) && !new DirectoryInfo(entry).Attributes.HasFlag(FileAttributes.ReparsePoint))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }

        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, MarkerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return null;
    }

    /// <summary>Pids of processes whose command line or environment names a path inside <paramref name="dir"/>.</summary>
    public static IReadOnlyList<int> ProcessesMentioning(string dir)
    {
        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)) + "/";
        var found = new List<int>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            if (Read(Path.Combine(proc, "cmdline")).Contains(prefix, StringComparison.Ordinal)
                || Read(Path.Combine(proc, "environ")).Contains("=" + prefix, StringComparison.Ordinal))
            {
                found.Add(pid);
            }
        }

        return found;
    }

    private static int KillProcessesMentioning(string dir)
    {
        var killed = 0;
        for (var round = 0; round < 5; round++)
        {
            var pids = ProcessesMentioning(dir);
            if (pids.Count == 0)
            {
                break;
            }

            foreach (var pid in pids)
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    p.Kill(entireProcessTree: true);
                    killed++;
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Gone meanwhile.
                }
            }

            Thread.Sleep(100);
        }

        return killed;
    }

    private static bool IsSandbox(int pid) => Read($"/proc/{pid}/cmdline").Contains("blip-sandbox", StringComparison.Ordinal)
        || Read($"/proc/{pid}/cmdline").Contains("Blip.Sandbox", StringComparison.Ordinal);

    private static string Read(string path)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
