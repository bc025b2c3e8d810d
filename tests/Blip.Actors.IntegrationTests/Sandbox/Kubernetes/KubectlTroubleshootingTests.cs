using System.Diagnostics;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.Kubernetes;

namespace Blip.Actors.IntegrationTests.Sandbox.Kubernetes;

/// <summary>The spec's troubleshooting command, verbatim, through the machine's kubectl against the sandbox running a
/// real controller process: its pod, its phase and its log.</summary>
public sealed class KubectlTroubleshootingTests
{
    private const string TroubleshootingCommand = "kubectl logs -n blip -l app=blip-controller --tail=200";

    [Fact]
    public async Task The_specs_troubleshooting_command_prints_the_controllers_last_log_lines()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var controller = await world.StartControllerProcessAsync();
        try
        {
            // The controller polls its repo once it has read the config: a line late in its log.
            await Deadline.UntilAsync(() => controller.ReadLog().Contains("polling every", StringComparison.Ordinal), PipelineWorld.Deadline, "the controller polling");

            var output = await KubectlAsync(world, TroubleshootingCommand);
            var printed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var log = controller.ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.InRange(printed.Length, 1, 200);
            Assert.Contains(printed, l => l.Contains("polling every", StringComparison.Ordinal));
            // The printed lines are a run of consecutive lines of the log (its end when it was asked).
            var start = Array.IndexOf(log, printed[0]);
            Assert.True(start >= 0, $"the first printed line is not in the controller's log: {printed[0]}");
            Assert.Equal(log.Skip(start).Take(printed.Length), printed);
            Assert.True(start == 0 || printed.Length == 200, $"{printed.Length} lines printed of {log.Length}, from line {start}");

            var tail = (await KubectlAsync(world, "kubectl logs -n blip blip-controller-0 --tail=2")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, tail.Length);
            // Read again: the controller may have logged after the first read (the tail is then past its end).
            log = controller.ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var at = Array.IndexOf(log, tail[0]);
            Assert.True(at >= 0 && at + 1 < log.Length && log[at + 1] == tail[1], $"--tail=2 printed two consecutive log lines: {string.Join(" | ", tail)}");
        }
        finally
        {
            await controller.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_controllers_pod_is_running_while_its_process_runs_and_ends_with_it()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, configure: false);
        var controller = await world.StartControllerProcessAsync();
        try
        {
            var running = await KubectlAsync(world, "kubectl get pods -n blip -l app=blip-controller");
            var lines = running.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$", lines[0].TrimEnd());
            Assert.Matches(@"^blip-controller-0\s+1/1\s+Running\s+0\s+\d+s$", lines[1].TrimEnd());

            await controller.SignalAsync("KILL");
            Assert.True(await controller.WaitForExitAsync(PipelineWorld.Deadline), "the controller exits on SIGKILL");
            await Deadline.UntilAsync(
                () => world.Sandbox.Kube.Store.Get(KubeResource.Pods, "blip", "blip-controller-0")["status"]!["phase"]!.GetValue<string>() == "Failed",
                PipelineWorld.Deadline, "the pod Failed");
            var pod = world.Sandbox.Kube.Store.Get(KubeResource.Pods, "blip", "blip-controller-0");
            Assert.Equal(137, pod["status"]!["containerStatuses"]![0]!["state"]!["terminated"]!["exitCode"]!.GetValue<int>());
            Assert.Matches(@"blip-controller-0\s+0/1\s+Error\s+0", await KubectlAsync(world, "kubectl get pods -n blip"));

            // A terminated container's log stays readable, as the kubelet keeps it.
            Assert.Contains(controller.ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(), await KubectlAsync(world, TroubleshootingCommand));
        }
        finally
        {
            await controller.DisposeAsync();
        }
    }

    /// <summary>Runs a kubectl command line with the sandbox's admin kubeconfig and a kubectl cache of its own.</summary>
    private static async Task<string> KubectlAsync(PipelineWorld world, string commandLine)
    {
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(commandLine);
        psi.Environment["KUBECONFIG"] = world.Sandbox.AdminKubeconfig;
        psi.Environment["KUBECACHEDIR"] = Path.Combine(world.StateDir, "kube-cache");
        psi.Environment["HOME"] = world.StateDir;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PipelineWorld.Deadline);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"`{commandLine}` exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
