using System.Diagnostics;
using System.Text;
using Blip.Actors.IntegrationTests.Sandbox.GitHub;
using Blip.Sandbox.FakeRunner;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Sandbox.FakeRunner;

/// <summary>The fake run.sh, run with bash against the emulator over loopback, as a sandbox VM runs it.</summary>
public sealed class FakeRunnerScriptTests : IAsyncLifetime
{
    private const string Repo = "acme/runners";
    private static readonly string[] BlipLabels = ["self-hosted", "blip"];
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("blip-fake-runner-");
    private readonly List<Process> _processes = [];
    private GitHubEmulator _emulator = null!;
    private GitHubSandboxClient _admin = null!;
    private string _script = null!;

    public async Task InitializeAsync()
    {
        _emulator = await GitHubEmulator.StartAsync(new GitHubEmulatorOptions { Repos = [Repo], RunnerLongPoll = TimeSpan.FromSeconds(2) });
        _admin = _emulator.CreateAdminClient();
        _script = Path.Combine(_dir.FullName, "run.sh");
        await File.WriteAllTextAsync(_script, FakeRunnerScript.Content);
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }
        _admin.Dispose();
        await _emulator.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public async Task The_runner_takes_the_oldest_matching_job_not_the_one_its_config_was_made_for()
    {
        var jobB = await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 3);
        var jobA = await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 1);
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var jit = (await OctokitFor.GenerateJitConfigAsync(client, Repo, $"blip-for-{jobA.JobId}", BlipLabels)).Body;
        var vm = VmDir("vm-1");

        var runner = StartRunner(vm, envConfig: jit.EncodedJitConfig);

        await Deadline.UntilAsync(async () => (await _admin.GetJobAsync(jobB.JobId))!.Status != "queued", ok => ok, HangGuard, "job B to be taken");
        var b = (await _admin.GetJobAsync(jobB.JobId))!;
        Assert.Equal("in_progress", b.Status);
        Assert.Equal(jit.Runner.Id, b.RunnerId);
        Assert.Equal($"blip-for-{jobA.JobId}", b.RunnerName);
        Assert.Equal("queued", (await _admin.GetJobAsync(jobA.JobId))!.Status);
        var busy = (await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "runners")).Runners.Single();
        Assert.True(busy.Busy);
        Assert.Equal("online", busy.Status);

        Assert.Equal(0, await ExitCodeAsync(runner));
        b = (await _admin.GetJobAsync(jobB.JobId))!;
        Assert.Equal(("completed", "success"), (b.Status, b.Conclusion));
        Assert.Equal("queued", (await _admin.GetJobAsync(jobA.JobId))!.Status);
        Assert.NotNull((await _admin.ListRunnersAsync(all: true)).Single().RemovedAt);
        Assert.Empty(await _admin.ListRunnersAsync());
        Assert.Equal("0", (await File.ReadAllTextAsync(Path.Combine(vm, FakeRunnerScript.ExitedFileName))).Trim());
        var log = await File.ReadAllTextAsync(Path.Combine(vm, FakeRunnerScript.LogFileName));
        Assert.Contains($"took job {jobB.JobId} (3s)", log);
        Assert.Contains($"completed job {jobB.JobId} (success)", log);
        AssertNoSecretIn(vm, jit.EncodedJitConfig);

        // GitHub's JIT configs are single use: a second runner with the same one refuses to start.
        var again = VmDir("vm-2");
        Assert.Equal(3, await ExitCodeAsync(StartRunner(again, envConfig: jit.EncodedJitConfig)));
        Assert.Contains("refusing to start", await File.ReadAllTextAsync(Path.Combine(again, FakeRunnerScript.LogFileName)));
        Assert.Equal("queued", (await _admin.GetJobAsync(jobA.JobId))!.Status);
        AssertNoSecretIn(again, jit.EncodedJitConfig);
    }

    [Fact]
    public async Task Runners_started_together_each_take_a_different_job()
    {
        const int count = 5;
        var jobs = new List<long>();
        for (var i = 0; i < count; i++)
        {
            jobs.Add((await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 1)).JobId);
        }

        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var runners = new List<Process>();
        for (var i = 0; i < count; i++)
        {
            var jit = (await OctokitFor.GenerateJitConfigAsync(client, Repo, $"blip-many-{i}", BlipLabels)).Body;
            runners.Add(StartRunner(VmDir($"vm-many-{i}"), envConfig: jit.EncodedJitConfig));
        }

        foreach (var runner in runners)
        {
            Assert.Equal(0, await ExitCodeAsync(runner));
        }

        var done = await Task.WhenAll(jobs.Select(id => _admin.GetJobAsync(id)));
        Assert.All(done, j => Assert.Equal("success", j!.Conclusion));
        Assert.Equal(count, done.Select(j => j!.RunnerId).Distinct().Count());
        Assert.Empty(await _admin.ListRunnersAsync());
    }

    [Fact]
    public async Task The_runner_accepts_its_config_on_the_command_line_too()
    {
        var job = await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 0);
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var jit = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-argv", BlipLabels)).Body;
        var vm = VmDir("vm-argv");

        Assert.Equal(0, await ExitCodeAsync(StartRunner(vm, argConfig: jit.EncodedJitConfig)));

        Assert.Equal("success", (await _admin.GetJobAsync(job.JobId))!.Conclusion);
        AssertNoSecretIn(vm, jit.EncodedJitConfig);
    }

    [Fact]
    public async Task Without_a_valid_config_the_runner_refuses_to_start()
    {
        var none = VmDir("vm-none");
        var garbage = VmDir("vm-garbage");
        var forged = VmDir("vm-forged");
        var forgedConfig = Convert.ToBase64String(Encoding.UTF8.GetBytes($"blip-jit-v1 {_emulator.Url.ToString().TrimEnd('/')} 100001 NotTheSecret"));

        Assert.Equal(2, await ExitCodeAsync(StartRunner(none)));
        Assert.Equal(2, await ExitCodeAsync(StartRunner(garbage, envConfig: "%%% not base64 %%%")));
        Assert.Equal(3, await ExitCodeAsync(StartRunner(forged, envConfig: forgedConfig)));

        Assert.Equal("2", (await File.ReadAllTextAsync(Path.Combine(none, FakeRunnerScript.ExitedFileName))).Trim());
        Assert.Contains("refusing to start: no JIT config", await File.ReadAllTextAsync(Path.Combine(none, FakeRunnerScript.LogFileName)));
    }

    [Fact]
    public async Task An_idle_runner_waits_and_exits_when_its_registration_is_deleted()
    {
        var gpuJob = await _admin.QueueJobAsync(Repo, ["self-hosted", "blip", "gpu"], durationSeconds: 1);
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var jit = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-idle", BlipLabels)).Body;
        var vm = VmDir("vm-idle");
        var runner = StartRunner(vm, envConfig: jit.EncodedJitConfig);

        await Deadline.UntilAsync(async () => (await _admin.ListRunnersAsync()).Single().Status == "online", ok => ok, HangGuard, "the runner to come online");
        await client.Actions.SelfHostedRunners.DeleteRepositoryRunner("acme", "runners", jit.Runner.Id);

        Assert.Equal(4, await ExitCodeAsync(runner));
        Assert.Equal("queued", (await _admin.GetJobAsync(gpuJob.JobId))!.Status);
    }

    [Fact]
    public async Task An_idle_runner_killed_without_a_word_shows_offline_and_stays_registered()
    {
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var jit = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-killed", BlipLabels)).Body;
        var runner = StartRunner(VmDir("vm-killed"), envConfig: jit.EncodedJitConfig);
        await Deadline.UntilAsync(async () => (await _admin.ListRunnersAsync()).Single().Status == "online", ok => ok, HangGuard, "the runner to come online");

        // As a VM's power-off ends it: no goodbye, no session deleted.
        runner.Kill(entireProcessTree: true);
        await runner.WaitForExitAsync();

        // Two long polls (2 s here) of silence: GitHub shows a runner whose listener stopped polling as offline.
        var offline = await Deadline.UntilAsync(async () => (await _admin.ListRunnersAsync()).Single(), r => r.Status == "offline", HangGuard, "the killed runner to show offline");
        Assert.Equal((jit.Runner.Id, false, null), (offline.Id, offline.Busy, offline.RemovedAt));
        Assert.Equal("offline", (await client.Actions.SelfHostedRunners.ListAllRunnersForRepository("acme", "runners")).Runners.Single().Status);
    }

    [Fact]
    public async Task A_silent_idle_runner_is_online_again_as_soon_as_it_polls()
    {
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var jit = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-silent", BlipLabels)).Body;
        var parts = Encoding.UTF8.GetString(Convert.FromBase64String(jit.EncodedJitConfig)).Split(' ');
        using var http = new HttpClient { BaseAddress = _emulator.Url };
        var session = (await (await http.PostAsync("_runner/redeem", new StringContent($"{parts[2]} {parts[3]}"))).Content.ReadAsStringAsync()).Split(' ')[0];
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.PostAsync("_runner/acquire", new StringContent(session))).StatusCode);

        await Deadline.UntilAsync(async () => (await _admin.ListRunnersAsync()).Single().Status, s => s == "offline", HangGuard, "the silent runner to show offline");

        // Polling again as a listener does (one long poll after another), until the listing shows it.
        using var listening = new CancellationTokenSource();
        var listener = Task.Run(async () =>
        {
            var answers = new List<System.Net.HttpStatusCode>();
            while (!listening.IsCancellationRequested)
            {
                try
                {
                    answers.Add((await http.PostAsync("_runner/acquire", new StringContent(session), listening.Token)).StatusCode);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return answers;
        });
        await Deadline.UntilAsync(async () => (await _admin.ListRunnersAsync()).Single().Status, s => s == "online", HangGuard, "the runner online again once it polls");
        await listening.CancelAsync();
        Assert.All(await listener, status => Assert.Equal(System.Net.HttpStatusCode.NoContent, status));
    }

    [Fact]
    public async Task A_cancelled_job_releases_its_runner_which_exits()
    {
        var job = await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 60);
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var jit = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-cancel", BlipLabels)).Body;
        var vm = VmDir("vm-cancel");
        var runner = StartRunner(vm, envConfig: jit.EncodedJitConfig);
        await Deadline.UntilAsync(async () => (await _admin.GetJobAsync(job.JobId))!.Status == "in_progress", ok => ok, HangGuard, "the job to start");

        // Busy runners cannot be deleted (422), as on GitHub.
        var busy = await Assert.ThrowsAsync<Octokit.ApiValidationException>(
            () => client.Actions.SelfHostedRunners.DeleteRepositoryRunner("acme", "runners", jit.Runner.Id));
        await _admin.CancelJobAsync(job.JobId);

        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, busy.StatusCode);
        Assert.Equal(0, await ExitCodeAsync(runner));
        Assert.Equal("cancelled", (await _admin.GetJobAsync(job.JobId))!.Conclusion);
        Assert.Contains($"job {job.JobId} was cancelled", await File.ReadAllTextAsync(Path.Combine(vm, FakeRunnerScript.LogFileName)));
        Assert.Empty(await _admin.ListRunnersAsync());
    }

    [Fact]
    public async Task A_second_start_on_a_vm_whose_runner_runs_exits_10_and_touches_nothing()
    {
        var job = await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 30);
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var first = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-first", BlipLabels)).Body;
        var second = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-second", BlipLabels)).Body;
        var vm = VmDir("vm-locked");
        StartRunner(vm, envConfig: first.EncodedJitConfig);
        await Deadline.UntilAsync(async () => (await _admin.GetJobAsync(job.JobId))!.Status == "in_progress", ok => ok, HangGuard, "the first runner to take the job");

        // A retried start (the same VM, a second run.sh) finds the lock held, as the image's run.sh does.
        Assert.Equal(10, await ExitCodeAsync(StartRunner(vm, envConfig: second.EncodedJitConfig)));

        Assert.Contains("a runner is already running on this VM; refusing a second start", await File.ReadAllTextAsync(Path.Combine(vm, FakeRunnerScript.LogFileName)));
        Assert.False(File.Exists(Path.Combine(vm, FakeRunnerScript.ExitedFileName)), "the running runner's VM is not marked exited");
        var runners = await _admin.ListRunnersAsync();
        Assert.Equal("offline", runners.Single(r => r.Name == "blip-second").Status);
        Assert.Equal(first.Runner.Id, (await _admin.GetJobAsync(job.JobId))!.RunnerId);
        AssertNoSecretIn(vm, second.EncodedJitConfig);
    }

    [Fact]
    public async Task A_start_on_a_vm_whose_runner_already_exited_exits_10_and_redeems_nothing()
    {
        var job = await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 1);
        var later = await _admin.QueueJobAsync(Repo, BlipLabels, durationSeconds: 1);
        var (client, _) = OctokitFor.FullAccess(_emulator, Repo);
        var first = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-ran", BlipLabels)).Body;
        var second = (await OctokitFor.GenerateJitConfigAsync(client, Repo, "blip-too-late", BlipLabels)).Body;
        var vm = VmDir("vm-spent");
        Assert.Equal(0, await ExitCodeAsync(StartRunner(vm, envConfig: first.EncodedJitConfig)));
        Assert.True(File.Exists(Path.Combine(vm, FakeRunnerScript.ExitedFileName)), "the first runner's exit marked the VM exited");

        // The VM powers off after its runner: a start in that window (a restarted controller) must not take a job.
        Assert.Equal(10, await ExitCodeAsync(StartRunner(vm, envConfig: second.EncodedJitConfig)));

        Assert.Contains("a runner already ran on this VM", await File.ReadAllTextAsync(Path.Combine(vm, FakeRunnerScript.LogFileName)));
        Assert.Equal("offline", (await _admin.ListRunnersAsync()).Single(r => r.Name == "blip-too-late").Status);
        Assert.Equal("queued", (await _admin.GetJobAsync(later.JobId))!.Status);
        Assert.Equal(first.Runner.Id, (await _admin.GetJobAsync(job.JobId))!.RunnerId);
        AssertNoSecretIn(vm, second.EncodedJitConfig);
    }

    private string VmDir(string name) => Directory.CreateDirectory(Path.Combine(_dir.FullName, name)).FullName;

    private Process StartRunner(string vmDir, string? envConfig = null, string? argConfig = null)
    {
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = vmDir,
        };
        start.ArgumentList.Add(_script);
        if (argConfig is not null)
        {
            start.ArgumentList.Add("--jitconfig");
            start.ArgumentList.Add(argConfig);
        }
        start.Environment["BLIP_VM_DIR"] = vmDir;
        start.Environment["BLIP_VM_NAME"] = Path.GetFileName(vmDir);
        start.Environment.Remove("ACTIONS_RUNNER_INPUT_JITCONFIG");
        if (envConfig is not null)
        {
            start.Environment["ACTIONS_RUNNER_INPUT_JITCONFIG"] = envConfig;
        }

        var process = Process.Start(start)!;
        _processes.Add(process);
        process.StandardInput.Close();
        return process;
    }

    private static async Task<int> ExitCodeAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(HangGuard);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal("", await stdout + await stderr);
        return process.ExitCode;
    }

    /// <summary>Nothing the runner wrote holds the JIT config or the secret inside it.</summary>
    private static void AssertNoSecretIn(string vmDir, string encodedJitConfig)
    {
        var secret = Encoding.UTF8.GetString(Convert.FromBase64String(encodedJitConfig)).Split(' ')[^1];
        foreach (var file in Directory.EnumerateFiles(vmDir, "*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain(encodedJitConfig, text);
            Assert.DoesNotContain(secret, text);
        }
        Assert.True(File.Exists(Path.Combine(vmDir, FakeRunnerScript.LogFileName)));
    }
}
