using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Blip.Actors.IntegrationTests.Harness;
using Blip.Actors.IntegrationTests.Sandbox.Executable;
using Blip.Sandbox.GitHub;
using k8s;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>
/// Every PAT, JIT config, GitHub App private key, App JWT and installation token the GitHub emulator ever issued or
/// accepted is searched for wherever the controller could have leaked it. The PAT's one legitimate home is Secret
/// github-pat, the App key's Secret github-app; a JIT config has none but the SSH channel, a JWT or token none but memory.
/// </summary>
public sealed class SecretHygieneTests
{
    [Fact]
    public async Task No_pat_or_jit_config_reaches_a_log_the_journal_a_kubernetes_object_a_file_or_a_process_line()
    {
        await using var sandbox = SandboxProcess.Start("--vms", "3", "--jobs", "5", "--duration", "120");
        await Deadline.UntilAsync(() => sandbox.Stdout.Contains("summary:"), TimeSpan.FromSeconds(90), $"demo summary; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sandbox.StateDir, "sandbox.json")))!;

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", manifest["githubAdminToken"]!.GetValue<string>());
        var issued = JsonNode.Parse(await http.GetStringAsync(new Uri(new Uri(manifest["githubUrl"]!.GetValue<string>()), "_sandbox/secrets")))!;
        var pats = issued["pats"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        var jitConfigs = issued["jitConfigs"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.NotEmpty(pats);
        Assert.True(jitConfigs.Count >= 4, $"only {jitConfigs.Count} JIT configs were issued");
        var needles = pats.Concat(jitConfigs).ToList();
        var kube = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(manifest["kubeconfig"]!.GetValue<string>()));
        var pids = manifest["controllers"]!.AsArray().Select(c => c!["pid"]!.GetValue<int>()).ToList();

        var hits = await ScanAsync(needles, pids, sandbox.StateDir, kube, ownHome: "github-pat");

        Assert.Empty(hits);
    }

    [Fact]
    public async Task No_app_private_key_jwt_or_installation_token_reaches_a_log_the_journal_a_kubernetes_object_a_file_or_a_process_line()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2, repos: ["org/repo"], configure: false);
        var app = world.Sandbox.GitHub.CreateApp(new CreateAppRequest(["org/repo"]));
        world.Sandbox.GitHub.InstallationTokenLifetime = TimeSpan.FromSeconds(8);
        await world.Sandbox.UpsertSecretAsync("github-app", new Dictionary<string, byte[]>
        {
            ["app-id"] = Encoding.UTF8.GetBytes(app.AppId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ["private-key"] = Encoding.UTF8.GetBytes(app.PrivateKeyPem),
        });
        await world.Sandbox.WriteActionsConfigAsync("self-hosted,blip", "org/repo");
        await using var controller = await world.StartControllerProcessAsync();
        var jobs = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            jobs.Add((await world.GitHub.QueueJobAsync("org/repo", ["self-hosted", "blip"], 3)).JobId);
        }

        foreach (var job in jobs)
        {
            await world.WaitForJobAsync(job, j => j.Status == "completed", "completed", TimeSpan.FromSeconds(120));
        }

        var issued = await world.GitHub.GetSecretsAsync();
        Assert.True(issued.InstallationTokens!.Count >= 2, $"only {issued.InstallationTokens.Count} installation tokens were issued");
        Assert.NotEmpty(issued.Jwts!);
        // A JWT's signature alone is as good as the JWT; a key is searched by each line of its PEM body too.
        var needles = issued.InstallationTokens
            .Concat(issued.Jwts!.SelectMany(j => new[] { j, j.Split('.')[2] }))
            .Concat(issued.AppPrivateKeys!.SelectMany(k => k.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)).Prepend(k)))
            .Concat(issued.JitConfigs)
            .ToList();

        var hits = await ScanAsync(needles, [controller.Pid], world.StateDir, world.Sandbox.KubeAdmin, ownHome: "github-app");

        Assert.Empty(hits);
    }

    /// <summary>Where each needle (and its base64) appears: the controller processes' command lines and environments,
    /// every file under the state dir (logs, the journal, VM dirs), every Kubernetes object and event but the Secret that
    /// is the secrets' own home.</summary>
    private static async Task<List<string>> ScanAsync(IReadOnlyList<string> secrets, IReadOnlyList<int> pids, string stateDir, IKubernetes kube, string ownHome)
    {
        var needles = secrets
            .SelectMany(s => new[] { s, Convert.ToBase64String(Encoding.UTF8.GetBytes(s)) })
            .Distinct()
            .Select(s => (Text: s, Bytes: Encoding.UTF8.GetBytes(s)))
            .ToList();
        var hits = new List<string>();

        void Scan(string where, byte[] haystack)
        {
            foreach (var needle in needles)
            {
                if (haystack.AsSpan().IndexOf(needle.Bytes) >= 0)
                {
                    hits.Add($"{where} holds {needle.Text[..Math.Min(8, needle.Text.Length)]}…");
                }
            }
        }

        foreach (var pid in pids)
        {
            Scan($"controller {pid} cmdline", await File.ReadAllBytesAsync($"/proc/{pid}/cmdline"));
            Scan($"controller {pid} environ", await File.ReadAllBytesAsync($"/proc/{pid}/environ"));
        }

        // Every file the controllers and the VMs wrote: logs (every level), the SQLite journal, runner logs.
        var files = Directory.EnumerateFiles(stateDir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not ("sandbox.json" or "kubeconfig" or "controller.kubeconfig")) // the sandbox's own notes for its user
            .ToList();
        Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("runner.log", StringComparison.Ordinal));
        foreach (var file in files)
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(file);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Gone since the listing: SQLite's rollback journal (<db>-journal) lives only while a write is in flight,
                // and what it held is in the database file scanned here too.
                continue;
            }

            Scan(Path.GetRelativePath(stateDir, file), bytes);
        }

        foreach (var cm in (await kube.CoreV1.ListNamespacedConfigMapAsync("blip")).Items)
        {
            Scan($"configmap {cm.Metadata.Name}", Encoding.UTF8.GetBytes(KubernetesJson.Serialize(cm)));
        }

        foreach (var secret in (await kube.CoreV1.ListNamespacedSecretAsync("blip")).Items.Where(s => s.Metadata.Name != ownHome))
        {
            Scan($"secret {secret.Metadata.Name}", Encoding.UTF8.GetBytes(KubernetesJson.Serialize(secret)));
        }

        foreach (var evt in (await kube.CoreV1.ListNamespacedEventAsync("blip")).Items)
        {
            Scan($"event {evt.Metadata.Name}", Encoding.UTF8.GetBytes(KubernetesJson.Serialize(evt)));
        }

        foreach (var plural in new[] { "virtualmachines", "virtualmachineinstances" })
        {
            var list = await kube.CustomObjects.ListNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", plural);
            Scan(plural, Encoding.UTF8.GetBytes(list.ToString()!));
        }

        return hits;
    }
}
