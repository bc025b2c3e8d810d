using System.Diagnostics;
using System.Text;

namespace Blip.Sandbox.Pool;

/// <summary>
/// Finds processes by their environment (/proc/&lt;pid&gt;/environ) and kills them. Killing sshd leaves
/// what its sessions started (nohup'd, reparented to init) alive; their BLIP_VM_NAME/BLIP_VM_DIR give them away.
/// </summary>
internal static class ProcessReaper
{
    /// <summary>SIGKILLs every process whose environment has all <paramref name="variables"/>; repeats
    /// until a scan finds none (children forked meanwhile). Returns how many were killed.</summary>
    public static int KillByEnvironment(IReadOnlyDictionary<string, string> variables)
    {
        var wanted = variables.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        var killed = 0;
        for (var round = 0; round < 10; round++)
        {
            var found = Find(wanted).ToList();
            if (found.Count == 0)
            {
                break;
            }

            foreach (var pid in found)
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    p.Kill();
                    killed++;
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Exited meanwhile.
                }
            }
        }
        return killed;
    }

    public static IEnumerable<int> Find(IReadOnlyList<string> wantedEntries)
    {
        var self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self)
            {
                continue;
            }

            byte[] environ;
            try
            {
                environ = File.ReadAllBytes(Path.Combine(dir, "environ"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            var entries = Encoding.UTF8.GetString(environ).Split('\0');
            if (wantedEntries.All(w => entries.Contains(w)))
            {
                yield return pid;
            }
        }
    }
}
