using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Blip.Actors.Benchmarks;

public static class Machine
{
    public static MachineInfo Describe() => new(
        Environment.ProcessorCount,
        FirstValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Math.Round(KiB("/proc/meminfo", "MemTotal:") / 1024.0 / 1024.0, 1),
        OsName(),
        RuntimeInformation.FrameworkDescription,
        GitCommit(),
        LoadAverage());

    private static string OsName()
    {
        var pretty = FirstValue("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"');
        var kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : null;
        return pretty is null ? RuntimeInformation.OSDescription : kernel is null ? pretty : $"{pretty}, Linux {kernel}";
    }

    private static string? FirstValue(string path, string key, char separator = ':')
    {
        if (!File.Exists(path))
        {
            return null;
        }

        return File.ReadLines(path)
            .Where(l => l.StartsWith(key, StringComparison.Ordinal) && l.Contains(separator))
            .Select(l => l[(l.IndexOf(separator) + 1)..].Trim())
            .FirstOrDefault();
    }

    private static long KiB(string path, string key) =>
        long.TryParse(FirstValue(path, key.TrimEnd(':'))?.Split(' ')[0], CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static double LoadAverage() =>
        File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture, out var l) ? l : double.NaN;

    private static string GitCommit()
    {
        try
        {
            var psi = new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory };
            using var git = Process.Start(psi);
            if (git is null)
            {
                return "unknown";
            }

            var commit = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit(5000);
            if (git.ExitCode != 0)
            {
                return "unknown";
            }

            psi.Arguments = "status --porcelain --untracked-files=no";
            using var status = Process.Start(psi);
            var dirty = status is not null && status.StandardOutput.ReadToEnd().Trim().Length > 0;
            status?.WaitForExit(5000);
            return dirty ? commit + "-dirty" : commit;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
