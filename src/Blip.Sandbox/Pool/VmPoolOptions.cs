using Blip.Sandbox.Shared;

namespace Blip.Sandbox.Pool;

public sealed record VmPoolOptions
{
    /// <summary>How many VMs the pool keeps.</summary>
    public int Count { get; init; } = 3;

    public string Namespace { get; init; } = "blip";

    /// <summary>The VMs carry label blip.io/pool=&lt;PoolName&gt;.</summary>
    public string PoolName { get; init; } = "blip";

    public int SshPort { get; init; } = 22;

    /// <summary>Whether the pool writes its VirtualMachinePool object (named <see cref="PoolName"/>, its VMs' owner). Off for
    /// the sandbox's default pool, whose VMs name their owner without it as they always did; on for the pools jobs are
    /// routed to.</summary>
    public bool PoolObject { get; init; }

    /// <summary>The SSH client key the VMs trust; null: the pool makes its own. Pools side by side share one (the controller
    /// has one key, Secret ssh-gateway-client-key).</summary>
    public SshKeys.KeyPair? ClientKey { get; init; }

    /// <summary>Required. Everything the pool writes (keys, sshd configs, VM homes, logs) lives under it.</summary>
    public string StateDir { get; init; } = "";

    /// <summary>How long a deleted VM's guest takes to shut down (KubeVirt: the VMI's termination grace period). Meanwhile
    /// the VM is terminating (deletionTimestamp, finalizer) and its VMI still runs. Zero: at once.</summary>
    public TimeSpan TerminationGracePeriod { get; init; } = TimeSpan.Zero;

    /// <summary>Time between a VM's creation and its sshd starting, like a real VM boot.</summary>
    public TimeSpan BootDelay { get; init; } = TimeSpan.Zero;

    /// <summary>The runner VMs run as <c>&lt;RunnerDir&gt;/run.sh</c>. Installed in this pool's state dir;
    /// the shared run.sh dispatches to the calling VM's pool (so pools with different scripts can run side by side).</summary>
    public string RunnerScript { get; init; } = DefaultRunnerScript;

    public string RunnerDir { get; init; } = "/home/runner/actions-runner";

    public string RunnerUser { get; init; } = "runner";

    /// <summary>What the VMs' <c>bin/Runner.Listener --version</c> prints, and the version the fake runner reports when it
    /// redeems its JIT config (the emulator may refuse it as outdated). <see cref="VmPool.RunnerVersion"/> changes it for
    /// VMs made later (an image rebuilt).</summary>
    public string RunnerVersion { get; init; } = CurrentRunnerVersion;

    /// <summary>The newest runner release the GitHub emulator lists by default.</summary>
    public const string CurrentRunnerVersion = "2.330.0";

    /// <summary>How long a VM may take from sshd start to listening.</summary>
    public TimeSpan SshdStartTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public const string DefaultRunnerScript = """
        #!/bin/bash
        # Blip sandbox placeholder runner: says hello and exits, which stops the VM.
        echo "blip sandbox runner on ${BLIP_VM_NAME:-unknown VM}: $*"
        touch "${BLIP_VM_DIR:?}/runner-exited"
        exit 0

        """;
}
