using Blip.Actors.Runners;

namespace Blip.Actors.Tests.Runners;

public sealed class BootstrapDecisionTests
{
    private static readonly FaultVerdict ConfigFault = new(true, false, 2);

    [Fact]
    public void A_held_lock_means_the_runner_runs_whatever_the_attempt() =>
        Assert.Equal(BootstrapStep.RunnerRuns, BootstrapDecision.AfterFailure(RunnerShellFailure.AlreadyRunning, false, 4, 4, FaultVerdict.VmFault));

    [Fact]
    public void Another_host_key_gives_the_vm_up_at_once() =>
        Assert.Equal(BootstrapStep.GiveUp, BootstrapDecision.AfterFailure(RunnerShellFailure.HostKeyMismatch, false, 1, 4, FaultVerdict.VmFault));

    [Fact]
    public void A_configuration_fault_holds_the_vm_past_the_last_attempt() =>
        Assert.Equal(BootstrapStep.HoldForConfiguration, BootstrapDecision.AfterFailure(RunnerShellFailure.AuthenticationFailed, false, 9, 4, ConfigFault));

    [Fact]
    public void An_outdated_runner_gives_its_vm_up_at_once_until_a_second_vm_makes_it_a_configuration_fault()
    {
        Assert.Equal(BootstrapStep.GiveUp, BootstrapDecision.AfterFailure(RunnerShellFailure.RunnerOutdated, false, 1, 4, FaultVerdict.VmFault));
        Assert.Equal(BootstrapStep.HoldForConfiguration, BootstrapDecision.AfterFailure(RunnerShellFailure.RunnerOutdated, false, 1, 4, ConfigFault));
    }

    [Fact]
    public void A_vm_fault_is_retried_then_given_up()
    {
        Assert.Equal(BootstrapStep.Retry, BootstrapDecision.AfterFailure(RunnerShellFailure.RunScriptMissing, false, 1, 2, FaultVerdict.VmFault));
        Assert.Equal(BootstrapStep.GiveUp, BootstrapDecision.AfterFailure(RunnerShellFailure.RunScriptMissing, false, 2, 2, FaultVerdict.VmFault));
    }

    [Fact]
    public void A_channel_that_broke_after_the_command_went_out_asks_github_before_retrying() =>
        Assert.Equal(BootstrapStep.CheckRegistrationThenRetry, BootstrapDecision.AfterFailure(RunnerShellFailure.Unreachable, true, 1, 4, FaultVerdict.VmFault));

    [Theory]
    [InlineData("online", false, true)]
    [InlineData("offline", true, true)]
    [InlineData("offline", false, false)]
    public void A_registration_online_or_busy_has_a_runner_behind_it(string status, bool busy, bool runs) =>
        Assert.Equal(runs, BootstrapDecision.RegistrationRuns(new RunnerInfo(1, "blip-1-a", status, busy, [])));

    [Fact]
    public void No_registration_has_no_runner() => Assert.False(BootstrapDecision.RegistrationRuns(null));
}
