using Blip.Actors.Runners;

namespace Blip.Actors.Tests.Runners;

public sealed class ConfigurationFaultsTests
{
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static string Describe(int vms) => $"rejected by {vms} VMs";

    [Theory]
    [InlineData(RunnerShellFailure.AuthenticationFailed, ConfigurationFaultCause.SshAuthenticationRejected)]
    [InlineData(RunnerShellFailure.RunnerDirMissing, ConfigurationFaultCause.RunnerDirMissing)]
    [InlineData(RunnerShellFailure.RunScriptMissing, ConfigurationFaultCause.RunScriptMissing)]
    [InlineData(RunnerShellFailure.RunnerOutdated, ConfigurationFaultCause.RunnerOutdated)]
    public void Failures_every_vm_can_share_are_classified_as_possible_configuration_faults(RunnerShellFailure failure, ConfigurationFaultCause cause) =>
        Assert.Equal(cause, BootstrapFaults.Classify(failure));

    [Theory]
    [InlineData(RunnerShellFailure.Unreachable)]
    [InlineData(RunnerShellFailure.HostKeyMismatch)]
    [InlineData(RunnerShellFailure.AlreadyRunning)]
    [InlineData(RunnerShellFailure.RunnerFailed)]
    public void Failures_of_one_vm_are_never_configuration_faults(RunnerShellFailure failure) =>
        Assert.Null(BootstrapFaults.Classify(failure));

    [Fact]
    public void Each_cause_names_what_to_fix()
    {
        Assert.Equal("SSH authentication rejected by 2 VMs (user 'runner'): check Secret ssh-gateway-client-key (key client_key) and Blip:SshUser",
            BootstrapFaults.Describe(ConfigurationFaultCause.SshAuthenticationRejected, 2, "runner", "/r"));
        Assert.Contains("Blip:RunnerDir", BootstrapFaults.Describe(ConfigurationFaultCause.RunnerDirMissing, 2, "runner", "/r"), StringComparison.Ordinal);
        Assert.Contains("VM image", BootstrapFaults.Describe(ConfigurationFaultCause.RunnerDirMissing, 2, "runner", "/r"), StringComparison.Ordinal);
        Assert.StartsWith("/r/run.sh missing or not executable on 3 VMs: check Blip:RunnerDir and the VM image",
            BootstrapFaults.Describe(ConfigurationFaultCause.RunScriptMissing, 3, "runner", "/r"), StringComparison.Ordinal);
        Assert.StartsWith("runner 2.300.0 on 2 VMs is outdated",
            BootstrapFaults.Describe(ConfigurationFaultCause.RunnerOutdated, 2, "runner", "/r", "2.300.0"), StringComparison.Ordinal);
        Assert.Contains("rebuild the VM image with a current runner (images/github-runner, RUNNER_VERSION",
            BootstrapFaults.Describe(ConfigurationFaultCause.RunnerOutdated, 2, "runner", "/r", "2.300.0"), StringComparison.Ordinal);
        Assert.Equal("runner_outdated", BootstrapFaults.Label(ConfigurationFaultCause.RunnerOutdated));
    }

    [Fact]
    public void The_same_failure_again_on_the_same_vm_is_still_that_vms_fault()
    {
        var faults = new ConfigurationFaults();

        Assert.False(faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-a", Describe).IsConfigurationFault);
        Assert.False(faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-a", Describe).IsConfigurationFault);
        Assert.Empty(faults.Active);
    }

    [Fact]
    public void The_same_failure_on_a_second_vm_is_a_configuration_fault_reported_once()
    {
        var faults = new ConfigurationFaults();
        var detected = new List<ConfigurationFaultCause>();
        faults.Detected += detected.Add;

        faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-a", Describe);
        var second = faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-b", Describe);
        var third = faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-a", Describe);

        Assert.Equal(new FaultVerdict(true, true, 2), second);
        Assert.True(third.IsConfigurationFault);
        Assert.False(third.FirstReport);
        Assert.Equal("rejected by 2 VMs", faults.Active[ConfigurationFaultCause.SshAuthenticationRejected]);
        Assert.Equal([ConfigurationFaultCause.SshAuthenticationRejected], detected);
    }

    [Fact]
    public void Different_causes_on_two_vms_are_two_vm_faults()
    {
        var faults = new ConfigurationFaults();

        faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-a", Describe);

        Assert.False(faults.Observe(ConfigurationFaultCause.RunScriptMissing, "vm-b", Describe).IsConfigurationFault);
    }

    [Fact]
    public void A_started_runner_clears_the_fault_and_wakes_held_retries()
    {
        var faults = new ConfigurationFaults();
        faults.Observe(ConfigurationFaultCause.RunnerDirMissing, "vm-a", Describe);
        faults.Observe(ConfigurationFaultCause.RunnerDirMissing, "vm-b", Describe);
        var changed = faults.Changed;

        Assert.Equal([ConfigurationFaultCause.RunnerDirMissing], faults.RunnerStarted());

        Assert.True(changed.IsCompleted);
        Assert.Empty(faults.Active);
        Assert.False(faults.Observe(ConfigurationFaultCause.RunnerDirMissing, "vm-c", Describe).IsConfigurationFault);
        Assert.Empty(faults.RunnerStarted());
    }

    [Fact]
    public void A_changed_secret_wakes_held_retries_without_clearing_the_fault()
    {
        var faults = new ConfigurationFaults();
        faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-a", Describe);
        faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-b", Describe);
        var changed = faults.Changed;

        faults.ConfigurationChanged();

        Assert.True(changed.IsCompleted);
        Assert.False(faults.Changed.IsCompleted);
        Assert.Single(faults.Active);
    }

    [Fact]
    public void Failures_further_apart_than_the_window_are_not_one_fault()
    {
        var clock = new ManualClock(Start);
        var faults = new ConfigurationFaults(clock);
        faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-a", Describe);

        clock.Now += ConfigurationFaults.Window + TimeSpan.FromSeconds(1);

        Assert.False(faults.Observe(ConfigurationFaultCause.SshAuthenticationRejected, "vm-b", Describe).IsConfigurationFault);
    }
}
