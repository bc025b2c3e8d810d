using Akka.Actor;
using Blip.Actors.Runners;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>What every job actor and its children use: the adapters, the node's VM inventory, the options and the
/// node's record of configuration faults.</summary>
public sealed record JobDependencies(
    IVmPool Pool,
    IGitHubActions GitHub,
    IRunnerShell Shell,
    IActorRef Inventory,
    JobOptions Options,
    ConfigurationFaults Faults)
{
    /// <summary>What the runner bootstrapper (a child of the job actor) uses: the same ports, its own settings.</summary>
    public RunnerDependencies Runners => new(
        GitHub, Shell, Pool, Inventory, Faults, Options.Runner);
}
