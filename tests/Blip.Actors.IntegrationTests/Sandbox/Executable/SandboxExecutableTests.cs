using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Blip.Sandbox.GitHub;
using k8s;

namespace Blip.Actors.IntegrationTests.Sandbox.Executable;

/// <summary><c>dotnet run --project src/Blip.Sandbox</c>, run as the real process a newcomer starts.</summary>
public sealed partial class SandboxExecutableTests
{
    // Hang guards, not timings: a loaded CI machine (load average near 60 once) took longer than 55 s to print anything.
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan DemoDeadline = TimeSpan.FromSeconds(300);

    [Fact]
    public async Task Emulators_only_run_writes_sandbox_json_and_a_working_kubeconfig_and_leaves_no_process_behind()
    {
        // --duration counts from the process start: 8 s ran out before sandbox.json on a loaded machine (the sandbox then
        // exits 0, as documented). 60 s leaves the start several times what it took under load, and still ends by itself.
        await using var sandbox = SandboxProcess.Start("--no-controller", "--vms", "2", "--jobs", "1", "--duration", "60");
        var manifestPath = await sandbox.WaitForManifestAsync(StartDeadline);

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
        // The banner follows sandbox.json (written first, so a reader of the banner finds the file).
        await Deadline.UntilAsync(() => sandbox.Stdout.Contains($"export KUBECONFIG={kubeconfig}", StringComparison.Ordinal), StartDeadline, "the banner's export KUBECONFIG line");

        // The kubeconfig is what kubectl and people use: it must reach the API with the real client.
        using (var kube = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)))
        {
            var list = await kube.CustomObjects.ListNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", "virtualmachines");
            var names = JsonNode.Parse(((System.Text.Json.JsonElement)list).GetRawText())!["items"]!.AsArray()
                .Select(i => i!["metadata"]!["name"]!.GetValue<string>()).ToList();
            Assert.Equal(vms.Select(v => v!["name"]!.GetValue<string>()).Order(), names.Order());
        }

        Assert.NotEmpty(sandbox.ProcessesInStateDir());
        Assert.Equal(0, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(150)));
        await Deadline.UntilAsync(() => Task.FromResult(sandbox.ProcessesInStateDir()), p => p.Count == 0, TimeSpan.FromSeconds(5), "no process left in the state dir");
        Assert.Contains("stopped", sandbox.Stdout);
    }

    [Fact]
    public async Task Demo_runs_every_matching_job_on_a_blip_runner_releases_every_vm_and_stops_clean_on_sigterm()
    {
        // Four jobs: the third is labelled gpu, which no Blip runner has.
        // The demo ends when its matching jobs are done; --duration only caps it, past the wait below.
        await using var sandbox = SandboxProcess.Start("--vms", "3", "--jobs", "4", "--duration", "600");
        var summary = await Deadline.UntilAsync(
            () => Task.FromResult(SummaryLine().Match(sandbox.Stdout)), m => m.Success, DemoDeadline,
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
        var pid = controller["pid"]!.GetValue<int>();
        Assert.True(Directory.Exists($"/proc/{pid}"), "the controller process reported in sandbox.json is running");

        // The PAT reaches the controller only through the Secret: never its command line or environment.
        var pat = manifest["pat"]!.GetValue<string>();
        Assert.DoesNotContain(pat, await File.ReadAllTextAsync($"/proc/{pid}/cmdline"));
        Assert.DoesNotContain(pat, await File.ReadAllTextAsync($"/proc/{pid}/environ"));
        Assert.Contains("Blip__Kubeconfig=", await File.ReadAllTextAsync($"/proc/{pid}/environ"));

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

            // Stdout is a pipe here, not a terminal: a line per change of a job, no table, no escape sequences. The gpu job
            // never changed while the demo looked every second until the others completed: one line.
            var lines = sandbox.Stdout.Split('\n');
            Assert.DoesNotContain('\u001b', sandbox.Stdout);
            Assert.DoesNotContain(lines, l => TableHeader().IsMatch(l));
            Assert.Single(lines, l => l.Contains($"job {gpu.JobId} ", StringComparison.Ordinal));
            Assert.All(matching, j => Assert.Single(lines, l => l.Contains($"job {j.JobId} ", StringComparison.Ordinal) && l.Contains("state completed", StringComparison.Ordinal)));
        }

        await sandbox.TerminateAsync();
        Assert.Equal(0, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await Deadline.UntilAsync(() => Task.FromResult(sandbox.ProcessesInStateDir()), p => p.Count == 0, TimeSpan.FromSeconds(5), "no process left in the state dir");
        Assert.False(Directory.Exists($"/proc/{pid}"), "the controller process is gone");
        Assert.DoesNotContain(pat, await File.ReadAllTextAsync(controller["log"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Without_the_demo_the_printed_kubectl_commands_configure_blip_and_a_queued_job_runs()
    {
        await using var sandbox = SandboxProcess.Start("--no-demo", "--vms", "2", "--duration", "600");
        await Deadline.UntilAsync(() => sandbox.Stdout.Contains("Stops by itself", StringComparison.Ordinal), StartDeadline,
            $"sandbox up; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sandbox.StateDir, "sandbox.json")))!;
        var kubeconfig = manifest["kubeconfig"]!.GetValue<string>();
        using var kube = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        var secrets = await kube.CoreV1.ListNamespacedSecretAsync("blip");
        Assert.DoesNotContain(secrets.Items, s => s.Metadata.Name == "github-pat");
        Assert.DoesNotContain((await kube.CoreV1.ListNamespacedConfigMapAsync("blip")).Items, c => c.Metadata.Name == "github-actions");

        // The commands exactly as printed, PAT included, through this machine's kubectl.
        var lines = sandbox.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var start = lines.FindIndex(l => l.StartsWith("Configure Blip as the spec says", StringComparison.Ordinal));
        Assert.True(start >= 0, sandbox.Stdout);
        var commands = string.Join('\n', lines.Skip(start + 1).TakeWhile(l => l.Length > 0));
        Assert.Contains(manifest["pat"]!.GetValue<string>(), commands);
        var cache = Path.Combine(sandbox.StateDir, "kube-cache");
        var (exit, output) = await Bash(commands, new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["KUBECACHEDIR"] = cache });
        Assert.True(exit == 0, output);
        Assert.Contains("secret/github-pat created", output);
        Assert.Contains("configmap/github-actions created", output);

        using var gitHub = new GitHubSandboxClient(new Uri(manifest["githubUrl"]!.GetValue<string>()), manifest["githubAdminToken"]!.GetValue<string>());
        var queued = await gitHub.QueueJobAsync("demo-org/demo-repo", ["self-hosted", "blip"], durationSeconds: 2);
        var job = await Deadline.UntilAsync(() => gitHub.GetJobAsync(queued.JobId), j => j?.Status == "completed", StartDeadline,
            $"job {queued.JobId} completed");
        Assert.StartsWith("blip-", job!.RunnerName, StringComparison.Ordinal);

        await sandbox.TerminateAsync();
        Assert.Equal(0, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await Deadline.UntilAsync(() => Task.FromResult(sandbox.ProcessesInStateDir()), p => p.Count == 0, TimeSpan.FromSeconds(5), "no process left in the state dir");
    }

    [Theory]
    [InlineData("--vms", "zero", "zero")]
    [InlineData("--jobs", "-3", "-3")]
    [InlineData("--store", "mysql", "must be sqlite or postgres")]
    public async Task A_bad_option_exits_2_naming_the_option_and_the_value(string option, string value, string expected)
    {
        await using var sandbox = SandboxProcess.Start(option, value);
        Assert.Equal(2, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(option, sandbox.Stderr);
        Assert.Contains(expected, sandbox.Stderr);
        Assert.Single(sandbox.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(sandbox.StateDir), "a rejected command line touches nothing");
    }

    private static async Task<(int Exit, string Output)> Bash(string script, IReadOnlyDictionary<string, string> env)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("set -eo pipefail\n" + script);
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task Help_prints_the_usage_and_exits_0()
    {
        await using var sandbox = SandboxProcess.Start("--help");
        Assert.Equal(0, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("--vms <N>", sandbox.Stdout);
        Assert.Contains("--no-controller", sandbox.Stdout);
        Assert.False(Directory.Exists(sandbox.StateDir), "--help touches nothing");
    }

    [GeneratedRegex(@"JOB\s+REPO")]
    private static partial Regex TableHeader();

    [GeneratedRegex(@"summary: (?<completed>\d+)/(?<matching>\d+) matching jobs completed, (?<queued>\d+)/(?<nonMatching>\d+) non-matching left queued.*, (?<claimed>\d+) VMs left claimed")]
    private static partial Regex SummaryLine();
}
