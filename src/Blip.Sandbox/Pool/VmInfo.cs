using System.Net;

namespace Blip.Sandbox.Pool;

/// <summary>A pool VM as the tests see it: where its sshd listens and where its files are.</summary>
public sealed record VmInfo(string Name, IPAddress Address, int Port, string VmDir)
{
    /// <summary>Owned by the runner user; exported to sessions as BLIP_VM_DIR. The runner leaves its log
    /// and the runner-exited marker here.</summary>
    public string HomeDir => Path.Combine(VmDir, "home");
}

/// <summary>Ways a VM can go wrong for tests.</summary>
public enum VmMisbehaviour
{
    None,

    /// <summary>sshd presents a host key other than the one in blip.io/host-key.</summary>
    WrongHostKey,

    /// <summary>sshd is stopped: connections are refused.</summary>
    RefuseConnections,

    /// <summary>A listener accepts connections and never says a word.</summary>
    HangHandshake,

    /// <summary>This VM's image lacks the runner dir: sessions run their command with the pool's runner dir
    /// (<see cref="VmPoolOptions.RunnerDir"/>) absent (sshd ForceCommand rewrites it to a path that does not exist).</summary>
    RunnerMissing,

    /// <summary>The first session runs its command to the end, then the connection breaks (its sshd is killed) before the
    /// exit status is sent: the client cannot tell whether the command ran. Later sessions behave.</summary>
    DropChannelAfterStart,
}
