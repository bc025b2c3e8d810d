using System.Text.RegularExpressions;
using Blip.Actors.Hosting;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>images/github-runner: the reference VM image. Checked statically, and its run.sh is run for real.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class RunnerImageTests
{
    // The build context is images/github-runner.
    private static string Context(params string[] parts) => Repo.PathOf(["images", "github-runner", .. parts]);
    private static Containerfile File_ => Containerfile.Load(Context("Containerfile"));
    private static string Files(string name) => File.ReadAllText(Context("files", name));

    [GeneratedRegex(@"^\d+\.\d+\.\d+$")]
    private static partial Regex VersionRegex();

    [GeneratedRegex(@"^[0-9a-f]{64}$")]
    private static partial Regex Sha256Regex();

    [Fact]
    public void Copies_only_files_that_exist_and_installs_every_one_of_them()
    {
        var sources = File_.ContextSources().ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.True(File.Exists(Context(s)) || Directory.Exists(Context(s)), $"COPY {s}: not in images/github-runner"));

        // Every file shipped in files/ is used by the in-guest script (no dead, untested file).
        var customize = Files("customize.sh");
        foreach (var file in Directory.GetFiles(Context("files")).Select(f => Path.GetFileName(f)).Where(f => f != "customize.sh"))
        {
            Assert.Contains($"$overlay/files/{file}", customize, StringComparison.Ordinal);
        }
        Assert.Contains(File_.RunScripts(), r => r.Contains("--run /work/overlay/files/customize.sh", StringComparison.Ordinal));
    }

    [Fact]
    public void Pins_a_current_runner_version_by_sha256_and_verifies_it()
    {
        var version = File_.Arg("RUNNER_VERSION");
        var sha = File_.Arg("RUNNER_SHA256");
        Assert.Matches(VersionRegex(), version);
        Assert.True(Version.Parse(version!) >= new Version(2, 329, 0), $"runner {version} is older than 2.329.0");
        Assert.Matches(Sha256Regex(), sha);
        Assert.Contains(File_.RunScripts(), r => r.Contains("${RUNNER_SHA256}", StringComparison.Ordinal) && r.Contains("sha256sum -c", StringComparison.Ordinal));
    }

    [Fact]
    public void Agent_lands_under_the_runner_dir_the_controller_uses_with_its_dependencies()
    {
        var options = new BlipOptions();
        Assert.Equal("/home/runner/actions-runner", options.RunnerDir);
        var customize = Files("customize.sh");
        Assert.Contains($"cp -a \"$overlay/actions-runner/.\" {options.RunnerDir}/", customize, StringComparison.Ordinal);
        Assert.Contains($"{options.RunnerDir}/bin/installdependencies.sh", customize, StringComparison.Ordinal);
        Assert.Contains($"install -m 0755 \"$overlay/files/run.sh\" {options.RunnerDir}/run.sh", customize, StringComparison.Ordinal);
        Assert.Contains($"useradd --create-home --uid 1001 --shell /bin/bash {options.SshUser}", customize, StringComparison.Ordinal);
        Assert.Contains($"chown -R {options.SshUser}:{options.SshUser} /home/{options.SshUser}", customize, StringComparison.Ordinal);

        // The final image is a containerDisk.
        var file = File_;
        Assert.Equal("scratch", file.InStage(file.LastStage, "FROM").Single().Arguments);
        Assert.Contains(file.InStage(file.LastStage, "COPY"), c => c.Words[^1] == "/disk/");
    }

    [Fact]
    public void Sshd_takes_keys_only_and_only_for_the_runner_user()
    {
        var lines = Files("sshd-blip.conf").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        Assert.Equal(new BlipOptions().SshUser, lines["AllowUsers"]);
        Assert.Equal("no", lines["PasswordAuthentication"]);
        Assert.Equal("no", lines["KbdInteractiveAuthentication"]);
        Assert.Equal("no", lines["PermitRootLogin"]);
        Assert.Equal("publickey", lines["AuthenticationMethods"]);
        // Ubuntu's cloud image ships 60-cloudimg-settings.conf; sshd keeps the FIRST value, so ours must sort before it.
        Assert.Contains("/etc/ssh/sshd_config.d/50-blip.conf", Files("customize.sh"), StringComparison.Ordinal);
    }

    [Fact]
    public void Power_off_units_watch_the_marker_run_sh_writes()
    {
        var path = Files("blip-runner-exit.path");
        var marker = Regex.Match(path, @"^PathExists=(\S+)$", RegexOptions.Multiline).Groups[1].Value;
        Assert.Equal("/run/blip-runner/exited", marker);
        var unit = Regex.Match(path, @"^Unit=(\S+)$", RegexOptions.Multiline).Groups[1].Value;
        Assert.True(File.Exists(Context("files", unit)), $"the path unit starts {unit}, which is not shipped");
        Assert.Matches(new Regex(@"^ExecStart=/usr/bin/systemctl poweroff$", RegexOptions.Multiline), Files(unit));

        Assert.Contains("state=\"${BLIP_RUNNER_STATE_DIR:-/run/blip-runner}\"", Files("run.sh"), StringComparison.Ordinal);
        Assert.Contains("marker=\"$state/exited\"", Files("run.sh"), StringComparison.Ordinal);
        // The marker's directory exists at boot and belongs to the runner user.
        Assert.Matches(new Regex(@"^d /run/blip-runner 0755 runner runner", RegexOptions.Multiline), Files("blip-runner.tmpfiles.conf"));
        Assert.Contains("systemctl enable blip-runner-exit.path", Files("customize.sh"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shell_scripts_parse()
    {
        foreach (var script in new[] { "run.sh", "customize.sh" })
        {
            var result = await Repo.RunAsync("bash", ["-n", Context("files", script)]);
            Assert.True(result.ExitCode == 0, $"{script}: {result.StdErr}");
        }
    }

    /// <summary>A runner dir with a fake bin/Runner.Listener that records what it got and exits with the given code.</summary>
    /// <param name="output">Lines the listener prints before it exits (as the real one prints to its console).</param>
    private static DirectoryInfo FakeRunnerDir(int exitCode, double seconds = 0, params string[] output)
    {
        var dir = Directory.CreateTempSubdirectory("blip-runner-image-");
        Directory.CreateDirectory(Path.Combine(dir.FullName, "bin"));
        Directory.CreateDirectory(Path.Combine(dir.FullName, "state"));
        File.Copy(Context("files", "run.sh"), Path.Combine(dir.FullName, "run.sh"));
        var listener = Path.Combine(dir.FullName, "bin", "Runner.Listener");
        File.WriteAllText(listener,
            "#!/bin/bash\n" +
            "echo \"args=$*\" > \"$(dirname \"$0\")/../listener.out\"\n" +
            "echo \"jit=${ACTIONS_RUNNER_INPUT_JITCONFIG:-}\" >> \"$(dirname \"$0\")/../listener.out\"\n" +
            "echo \"pwd=$PWD\" >> \"$(dirname \"$0\")/../listener.out\"\n" +
            "if [ \"${1:-}\" = --version ]; then echo 2.300.0; exit 0; fi\n" +
            string.Concat(output.Select(line => $"echo '{line}'\n")) +
            $"sleep {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n" +
            $"exit {exitCode}\n");
        File.SetUnixFileMode(listener, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(Path.Combine(dir.FullName, "run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }

    private static Task<Repo.ProcessResult> RunSh(DirectoryInfo dir, string? jit, string? ready = null) =>
        Repo.RunAsync(Path.Combine(dir.FullName, "run.sh"), [],
            new Dictionary<string, string?>
            {
                ["BLIP_RUNNER_STATE_DIR"] = Path.Combine(dir.FullName, "state"),
                ["ACTIONS_RUNNER_INPUT_JITCONFIG"] = jit,
                ["BLIP_RUNNER_READY"] = ready,
            },
            workingDirectory: Path.GetTempPath(), timeout: TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Run_sh_runs_the_listener_once_with_the_jit_config_from_the_environment_then_marks_exit(int listenerExit)
    {
        var dir = FakeRunnerDir(listenerExit);
        try
        {
            var result = await RunSh(dir, "sealed-jit-config");

            Assert.Equal(listenerExit, result.ExitCode);
            var seen = File.ReadAllLines(Path.Combine(dir.FullName, "listener.out"));
            Assert.Equal(["args=run", "jit=sealed-jit-config", $"pwd={dir.FullName}"], seen);
            // The marker the root path unit powers off on, carrying the exit code.
            Assert.Equal(listenerExit.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(dir.FullName, "state", "exited")).Trim());
            if (listenerExit == 4)
            {
                Assert.Contains("self-update is disabled", result.StdErr, StringComparison.Ordinal);
            }
            Assert.DoesNotContain("sealed-jit-config", result.StdErr + result.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Run_sh_without_a_jit_config_does_not_start_the_listener_and_still_powers_off()
    {
        var dir = FakeRunnerDir(0);
        try
        {
            var result = await RunSh(dir, null);
            Assert.NotEqual(0, result.ExitCode);
            Assert.False(File.Exists(Path.Combine(dir.FullName, "listener.out")), "the listener ran without a JIT config");
            Assert.True(File.Exists(Path.Combine(dir.FullName, "state", "exited")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Run_sh_refuses_a_second_runner_while_one_is_running()
    {
        var dir = FakeRunnerDir(0, seconds: 3);
        try
        {
            var first = RunSh(dir, "first");
            var lockFile = Path.Combine(dir.FullName, "listener.out");
            for (var i = 0; i < 100 && !File.Exists(lockFile); i++)
            {
                await Task.Delay(50);
            }
            Assert.True(File.Exists(lockFile), "the first runner did not start");

            var second = await RunSh(dir, "second");
            Assert.Equal(10, second.ExitCode); // the controller reads 10 as "a runner runs" (SshRunnerShell.RunShLockedExitCode)
            Assert.Contains("already running", second.StdErr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir.FullName, "state", "exited")), "the refused second start marked the VM for power-off");

            Assert.Equal(0, (await first).ExitCode);
            Assert.Contains("jit=first", File.ReadAllText(lockFile), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>ChaosTests failed twice under load: a controller restarted between a runner's start and its record started
    /// a second runner on the VM after the first had exited, and the power-off killed it (mid-job, or left registered).</summary>
    [Fact]
    public async Task Run_sh_refuses_a_start_on_a_vm_whose_runner_already_exited()
    {
        var dir = FakeRunnerDir(0);
        try
        {
            Assert.Equal(0, (await RunSh(dir, "first")).ExitCode);
            Assert.True(File.Exists(Path.Combine(dir.FullName, "state", "exited")), "the first runner's exit marked the VM for power-off");
            File.Delete(Path.Combine(dir.FullName, "listener.out"));

            var second = await RunSh(dir, "second");

            Assert.Equal(10, second.ExitCode);
            Assert.Contains("already ran on this VM", second.StdErr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir.FullName, "listener.out")), "the listener ran a second time");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Run_sh_exits_7_and_leaves_the_vm_up_when_github_refuses_the_runner_as_outdated()
    {
        var dir = FakeRunnerDir(1, 0, "Current runner version: '2.300.0'", "An error occurred: Runner version v2.300.0 is deprecated and cannot receive messages.");
        try
        {
            var result = await RunSh(dir, "sealed-jit-config");

            Assert.Equal(Blip.Actors.Ssh.SshRunnerShell.RunShOutdatedExitCode, result.ExitCode);
            Assert.Contains("GitHub refused runner 2.300.0 as outdated", result.StdErr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir.FullName, "state", "exited")), "an outdated runner powered its VM off (the controller holds it instead)");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Run_sh_says_ready_when_the_listener_listens()
    {
        var dir = FakeRunnerDir(0, 0, "Connected to GitHub", "Listening for Jobs");
        var ready = Path.Combine(dir.FullName, "ready");
        try
        {
            var result = await RunSh(dir, "sealed-jit-config", ready);

            Assert.Equal(0, result.ExitCode);
            Assert.True(File.Exists(ready), "the file BLIP_RUNNER_READY names was not created");
            Assert.True(File.Exists(Path.Combine(dir.FullName, "state", "exited")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
