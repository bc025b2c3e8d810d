using System.Text;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Pipeline;

/// <summary>
/// GitHub App authentication (Secret github-app) and GitHub behind a private CA (github-ca), on the sandbox: the GitHub
/// emulator verifies the App's JWTs with the App's public keys, issues installation tokens that expire, and serves HTTPS
/// with a certificate from a CA it makes.
/// </summary>
public sealed class GitHubAppTests
{
    private static readonly string[] Labels = ["self-hosted", "blip"];

    private static Task WriteAppSecretAsync(PipelineWorld world, CreatedApp app, string privateKeyPem) =>
        world.Sandbox.UpsertSecretAsync("github-app", new Dictionary<string, byte[]>
        {
            ["app-id"] = Encoding.UTF8.GetBytes(app.AppId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ["private-key"] = Encoding.UTF8.GetBytes(privateKeyPem),
        });

    /// <summary>A world with the App installed on org/repo, Secret github-app and the ConfigMap, and no Secret github-pat.</summary>
    private static async Task<(PipelineWorld World, CreatedApp App)> AppOnlyWorldAsync(int vms = 2)
    {
        var world = await PipelineWorld.StartAsync(vms: vms, repos: ["org/repo"], configure: false);
        var app = world.Sandbox.GitHub.CreateApp(new CreateAppRequest(["org/repo"]));
        await WriteAppSecretAsync(world, app, app.PrivateKeyPem);
        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/repo");
        return (world, app);
    }

    private static async Task<IReadOnlyList<SandboxJob>> RunAllAsync(PipelineWorld world, IEnumerable<long> jobIds, TimeSpan? timeout = null)
    {
        var done = new List<SandboxJob>();
        foreach (var id in jobIds)
        {
            done.Add(await world.WaitForJobAsync(id, j => j.Status == "completed", "completed", timeout ?? TimeSpan.FromSeconds(120)));
        }

        return done;
    }

    [Fact]
    public async Task Jobs_run_with_github_app_auth_only()
    {
        var (world, app) = await AppOnlyWorldAsync();
        await using var _ = world;
        await world.StartControllerAsync();

        var jobs = new[] { await world.GitHub.QueueJobAsync("org/repo", Labels, 1), await world.GitHub.QueueJobAsync("org/repo", Labels, 1) };
        var done = await RunAllAsync(world, jobs.Select(j => j.JobId));

        Assert.All(done, j => Assert.Equal("success", j.Conclusion));
        Assert.All(done, j => Assert.StartsWith("blip-", j.RunnerName, StringComparison.Ordinal));
        var activity = world.Sandbox.GitHub.AppActivity(app.AppId);
        Assert.True(activity.TokensIssued >= 1, "no installation token was issued");
        Assert.True(activity.JwtsByKey.GetValueOrDefault(app.KeyId) >= 1, "no JWT of the App's key was accepted");
        Assert.True(world.Log.Contains("authenticating as GitHub App"), "the App was not announced");
        Assert.False(world.Log.Contains("no PAT available"), "the App alone is a credential");
    }

    /// <summary>The App is installed on the configured repos, never on actions/runner: its public releases are read
    /// without credentials (an installation token could not reach them), and judge the runner as with a PAT.</summary>
    [Fact]
    public async Task With_an_app_the_runner_releases_are_read_without_credentials_and_judge_the_runner()
    {
        var (world, _) = await AppOnlyWorldAsync(vms: 1);
        await using var _ = world;
        var running = Blip.Sandbox.Pool.VmPoolOptions.CurrentRunnerVersion;
        world.Sandbox.GitHub.RunnerReleases = [new SandboxRunnerRelease("9.0.0", DateTimeOffset.UtcNow.AddDays(-24)), new SandboxRunnerRelease(running, DateTimeOffset.UtcNow.AddDays(-90))];
        await world.StartControllerAsync(o => o.RunnerReleaseCheckInterval = TimeSpan.FromSeconds(1));

        var job = await world.GitHub.QueueJobAsync("org/repo", Labels, 1);
        await RunAllAsync(world, [job.JobId]);

        await Deadline.UntilAsync(() => world.Log.Contains($"runner {running} started on this node's VMs is behind actions/runner 9.0.0"),
            PipelineWorld.Deadline, "the release warning");
        Assert.False(world.Log.Contains("could not list GitHub's actions/runner releases"), string.Join("\n", world.Log.Lines.Where(l => l.Contains("runner releases", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task An_expired_installation_token_is_refreshed_without_a_failed_job()
    {
        var (world, app) = await AppOnlyWorldAsync();
        await using var _ = world;
        // Tokens that live 6 s: the controller renews each with a quarter of its life left, many times over the test.
        world.Sandbox.GitHub.InstallationTokenLifetime = TimeSpan.FromSeconds(6);
        await world.StartControllerAsync();

        var first = await world.GitHub.QueueJobAsync("org/repo", Labels, 8);
        await world.WaitForJobAsync(first.JobId, j => j.Status == "in_progress", "in progress");
        await Deadline.UntilAsync(() => Task.FromResult(world.Sandbox.GitHub.AppActivity(app.AppId).TokensIssued), n => n >= 3,
            PipelineWorld.Deadline, "tokens renewed before they expire");
        // Then a token the controller holds for an hour ends early (GitHub's clock ahead, or a revocation): the next call
        // is refused, and answered by a new token, not by a failure.
        world.Sandbox.GitHub.InstallationTokenLifetime = TimeSpan.FromHours(1);
        await Deadline.UntilAsync(() => Task.FromResult(world.Sandbox.GitHub.AppActivity(app.AppId).NewestTokenExpiresAt), t => t > DateTimeOffset.UtcNow.AddMinutes(10),
            PipelineWorld.Deadline, "an hour's token in use");
        var ended = world.Sandbox.GitHub.ExpireInstallationTokens(app.InstallationId);
        var second = await world.GitHub.QueueJobAsync("org/repo", Labels, 2);
        var done = await RunAllAsync(world, [first.JobId, second.JobId]);

        Assert.True(ended >= 1, "no token was live when they were ended");
        Assert.All(done, j => Assert.Equal("success", j.Conclusion));
        await Deadline.UntilAsync(() => world.Log.Contains("GitHub refused the token of installation"), PipelineWorld.Deadline, "the refused token replaced");
        Assert.False(world.Log.Contains("failed to create JIT runner config"), string.Join('\n', world.Log.Lines.Where(l => l.Contains("failed to create JIT", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task A_broken_app_secret_is_named_in_one_error_and_the_pat_keeps_working()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/repo"]);
        const string notAKey = "-----BEGIN RSA PRIVATE KEY-----\nbm90LWEta2V5LWJ1dC1hLXNlY3JldC1hbGwtdGhlLXNhbWU=\n-----END RSA PRIVATE KEY-----\n";
        await world.Sandbox.UpsertSecretAsync("github-app", new Dictionary<string, byte[]>
        {
            ["app-id"] = "12345"u8.ToArray(),
            ["private-key"] = Encoding.UTF8.GetBytes(notAKey),
        });
        await world.StartControllerAsync();

        var job = await world.GitHub.QueueJobAsync("org/repo", Labels, 1);
        var done = await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed with the PAT");

        Assert.Equal("success", done.Conclusion);
        var errors = world.Log.Lines.Where(l => l.Contains("Secret github-app: key 'private-key'", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains("PAT", errors[0], StringComparison.Ordinal);
        Assert.False(world.Log.Contains("bm90LWEta2V5"), "the key's content reached the log");
    }

    [Fact]
    public async Task The_app_key_rotated_mid_burst_loses_no_job()
    {
        var (world, app) = await AppOnlyWorldAsync(vms: 2);
        await using var _ = world;
        await world.StartControllerAsync();
        var jobs = new List<QueuedJob>();
        for (var i = 0; i < 6; i++)
        {
            jobs.Add(await world.GitHub.QueueJobAsync("org/repo", Labels, 2));
        }

        await world.WaitForJobAsync(jobs[0].JobId, j => j.Status is "in_progress" or "completed", "the burst under way");
        // GitHub's rotation: generate a second key, put it in the Secret, delete the first once the new one is in use.
        var second = world.Sandbox.GitHub.AddAppKey(app.AppId)!;
        await WriteAppSecretAsync(world, app, second.PrivateKeyPem);
        await Deadline.UntilAsync(() => Task.FromResult(world.Sandbox.GitHub.AppActivity(app.AppId).JwtsByKey.GetValueOrDefault(second.KeyId)), n => n >= 1,
            PipelineWorld.Deadline, "the controller signing with the new key");
        Assert.True(world.Sandbox.GitHub.RemoveAppKey(app.AppId, app.KeyId));
        var done = await RunAllAsync(world, jobs.Select(j => j.JobId));

        Assert.All(done, j => Assert.Equal("success", j.Conclusion));
        Assert.Equal(done.Count, done.Select(j => j.RunnerName).Distinct().Count());
        Assert.True(world.Log.Contains("Secret github-app: rotated"), "the rotation was not announced");
        await Deadline.UntilAsync(world.ClaimedVmsAsync, vms => vms.Count == 0, PipelineWorld.Deadline, "every VM released");
    }

    [Fact]
    public async Task GitHub_over_https_from_a_private_ca_is_refused_with_a_clear_error_until_github_ca_holds_the_ca()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1, repos: ["org/repo"]);
        await world.StartControllerAsync(o => o.GitHubApiUrl = world.Sandbox.GitHub.HttpsUrl.ToString());
        var job = await world.GitHub.QueueJobAsync("org/repo", Labels, 1);

        const string advice = "put the CA certificate (PEM) in Secret or ConfigMap github-ca, key ca.crt";
        await Deadline.UntilAsync(() => world.Log.Count(advice) >= 1, PipelineWorld.Deadline, "the refused certificate explained");
        Assert.Equal(0, (await world.GitHub.GetStatsAsync()).Total);
        Assert.Equal("queued", (await world.GitHub.GetJobAsync(job.JobId))!.Status);

        await world.Sandbox.UpsertConfigMapAsync("github-ca", new Dictionary<string, string> { ["ca.crt"] = world.Sandbox.GitHub.CaPem });
        var done = await world.WaitForJobAsync(job.JobId, j => j.Status == "completed", "completed over HTTPS", TimeSpan.FromSeconds(90));

        Assert.Equal("success", done.Conclusion);
        Assert.Single(world.Log.Lines, l => l.Contains(" Error ", StringComparison.Ordinal) && l.Contains(advice, StringComparison.Ordinal));
        Assert.True(world.Log.Contains("github-ca: trusting 1 CA certificate(s)"), "the bundle was not announced");
    }
}
