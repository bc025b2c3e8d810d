using Akka.Actor;
using Blip.Actors.Vms;

namespace Blip.Actors.Runners;

/// <summary>The settings the runner bootstrapper reads: the same names and defaults as in <c>Blip:</c> (BlipOptions).</summary>
public sealed class RunnerOptions
{
    public string SshUser { get; init; } = "runner";

    public string RunnerDir { get; init; } = "/home/runner/actions-runner";

    /// <summary>How many SSH attempts on one VM before its registration is deleted and another VM claimed.</summary>
    public int SshAttempts { get; init; } = 4;
}

/// <summary>What a runner bootstrapper uses: the adapters, the node's VM inventory (to look its VM up), the node's
/// record of configuration faults and its settings.</summary>
public sealed record RunnerDependencies(
    IGitHubActions GitHub,
    IRunnerShell Shell,
    IVmPool Pool,
    IActorRef Inventory,
    ConfigurationFaults Faults,
    RunnerOptions Options);
