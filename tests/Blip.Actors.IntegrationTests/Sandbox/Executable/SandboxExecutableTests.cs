using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;
using k8s;

namespace Blip.Actors.IntegrationTests.Sandbox.Executable;

/// <summary><c>dotnet run --project src/Blip.Sandbox</c>, run as the real process a newcomer starts.</summary>
public sealed partial class SandboxExecutableTests
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Emulators_only_run_writes_sandbox_json_and_a_working_kubeconfig_and_leaves_no_process_behind()
    {
        await using var sandbox = SandboxProcess.Start("--no-controller", "--vms", "2", "--jobs", "1", "--duration", "8");
        var manifestPath = Path.Combine(sandbox.StateDir, "sandbox.json");
        await Deadline.UntilAsync(() => File.Exists(manifestPath), StartDeadline, $"sandbox.json written; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");

        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        Assert.Equal("blip", manifest["namespace"]!.GetValue<string>());
        var kubeconfig = manifest["kubeconfig"]!.GetValue<string>();
        Assert.Equal(Path.Combine(sandbox.StateDir, "kubeconfig"), kubeconfig);
        Assert.StartsWith("https://127.0.0.1:", manifest["kubeApiUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("http://127.0.0.1:", manifest["githubUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(manifest["pat"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(manifest["githubAdminToken"]!.GetValue<string>()));
        var vms = manifest["vms"]!.AsArray();
        Assert.Equal(2, vms.Count);
        foreach (var vm in vms)
        {
            Assert.StartsWith("blip-", vm!["name"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.StartsWith("127.0.1.", vm["address"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(22, vm["port"]!.GetValue<int>());
        }

        Assert.Empty(manifest["controllers"]!.AsArray());
        Assert.Contains($"export KUBECONFIG={kubeconfig}", sandbox.Stdout);

        // The kubeconfig is what kubectl and people use: it must reach the API with the real client.
        using (var kube = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)))
        {
            var list = await kube.CustomObjects.ListNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", "virtualmachines");
            var names = JsonNode.Parse(((System.Text.Json.JsonElement)list).GetRawText())!["items"]!.AsArray()
                .Select(i => i!["metadata"]!["name"]!.GetValue<string>()).ToList();
            Assert.Equal(vms.Select(v => v!["name"]!.GetValue<string>()).Order(), names.Order());
        }

        Assert.NotEmpty(sandbox.ProcessesInStateDir());
        Assert.Equal(0, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await Deadline.UntilAsync(() => Task.FromResult(sandbox.ProcessesInStateDir()), p => p.Count == 0, TimeSpan.FromSeconds(5), "no process left in the state dir");
        Assert.Contains("stopped", sandbox.Stdout);
    }

    [Fact]
    public async Task Demo_runs_every_matching_job_on_a_blip_runner_releases_every_vm_and_stops_clean_on_sigterm()
    {
        // Four jobs: the third is labelled gpu, which no Blip runner has.
        await using var sandbox = SandboxProcess.Start("--vms", "3", "--jobs", "4", "--duration", "60");
        var summary = await Deadline.UntilAsync(
            () => Task.FromResult(SummaryLine().Match(sandbox.Stdout)), m => m.Success, TimeSpan.FromSeconds(55),
            $"demo summary; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");
        Assert.Equal("3", summary.Groups["completed"].Value);
        Assert.Equal("3", summary.Groups["matching"].Value);
        Assert.Equal("1", summary.Groups["queued"].Value);
        Assert.Equal("1", summary.Groups["nonMatching"].Value);
        Assert.Equal("0", summary.Groups["claimed"].Value);

        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sandbox.StateDir, "sandbox.json")))!;
        var controllers = manifest["controllers"]!.AsArray();
        var controller = Assert.Single(controllers);
        Assert.True(File.Exists(controller!["log"]!.GetValue<string>()));
        Assert.True(Directory.Exists($"/proc/{controller["pid"]!.GetValue<int>()}"), "the controller process reported in sandbox.json is running");

        // The GitHub emulator's own record: who ran what.
        using (var gitHub = new GitHubSandboxClient(new Uri(manifest["githubUrl"]!.GetValue<string>()), manifest["githubAdminToken"]!.GetValue<string>()))
        {
            var jobs = await gitHub.ListJobsAsync();
            Assert.Equal(4, jobs.Count);
            var matching = jobs.Where(j => j.Labels.Contains("blip")).ToList();
            Assert.Equal(3, matching.Count);
            Assert.All(matching, j =>
            {
                Assert.Equal("completed", j.Status);
                Assert.StartsWith("blip-", j.RunnerName, StringComparison.Ordinal);
            });
            var gpu = Assert.Single(jobs, j => j.Labels.Contains("gpu"));
            Assert.Equal("queued", gpu.Status);
            Assert.Null(gpu.RunnerName);
        }

        await sandbox.TerminateAsync();
        Assert.Equal(0, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await Deadline.UntilAsync(() => Task.FromResult(sandbox.ProcessesInStateDir()), p => p.Count == 0, TimeSpan.FromSeconds(5), "no process left in the state dir");
        Assert.False(Directory.Exists($"/proc/{controller["pid"]!.GetValue<int>()}"), "the controller process is gone");
    }

    [Theory]
    [InlineData("--vms", "zero", "zero")]
    [InlineData("--jobs", "-3", "-3")]
    [InlineData("--store", "postgres", "not yet supported")]
    public async Task A_bad_option_exits_2_naming_the_option_and_the_value(string option, string value, string expected)
    {
        await using var sandbox = SandboxProcess.Start(option, value);
        Assert.Equal(2, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(option, sandbox.Stderr);
        Assert.Contains(expected, sandbox.Stderr);
        Assert.Single(sandbox.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(sandbox.StateDir), "a rejected command line touches nothing");
    }

    [GeneratedRegex(@"summary: (?<completed>\d+)/(?<matching>\d+) matching jobs completed, (?<queued>\d+)/(?<nonMatching>\d+) non-matching left queued.*, (?<claimed>\d+) VMs left claimed")]
    private static partial Regex SummaryLine();
}
