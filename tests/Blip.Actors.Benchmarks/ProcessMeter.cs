using System.Globalization;

namespace Blip.Actors.Benchmarks;

/// <summary>Resident memory and CPU time of a process, read from <c>/proc/PID/status</c> and <c>/proc/PID/stat</c>.</summary>
public sealed class ProcessMeter(int pid)
{
    // USER_HZ is 100 on every Linux ABI .NET runs on.
    private const double TicksPerSecond = 100.0;

    public int Pid { get; } = pid;

    /// <summary>VmRSS in MiB.</summary>
    public double RssMiB() => StatusKiB("VmRSS:") / 1024.0;

    /// <summary>VmHWM (peak RSS) in MiB.</summary>
    public double PeakRssMiB() => StatusKiB("VmHWM:") / 1024.0;

    /// <summary>User plus system CPU seconds so far.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // The command name may hold spaces: fields count from after its closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }

    private long StatusKiB(string key)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
