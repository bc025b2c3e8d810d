using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Blip.Actors.IntegrationTests.Sandbox.Executable;
using k8s;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>
/// Every PAT and JIT config the GitHub emulator ever issued is searched for wherever the controller could have
/// leaked it. The PAT's one legitimate home is Secret github-pat; a JIT config has none but the SSH channel.
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
        var needles = pats.Concat(jitConfigs)
            .SelectMany(s => new[] { s, Convert.ToBase64String(Encoding.UTF8.GetBytes(s)) })
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

        // Controller processes: command lines and environments.
        foreach (var controller in manifest["controllers"]!.AsArray())
        {
            var pid = controller!["pid"]!.GetValue<int>();
            Scan($"controller {pid} cmdline", await File.ReadAllBytesAsync($"/proc/{pid}/cmdline"));
            Scan($"controller {pid} environ", await File.ReadAllBytesAsync($"/proc/{pid}/environ"));
        }

        // Every file the controllers and the VMs wrote: logs (every level), the SQLite journal, runner logs.
        var files = Directory.EnumerateFiles(sandbox.StateDir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not ("sandbox.json" or "kubeconfig" or "controller.kubeconfig")) // the sandbox's own notes for its user
            .ToList();
        Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("runner.log", StringComparison.Ordinal));
        foreach (var file in files)
        {
            Scan(Path.GetRelativePath(sandbox.StateDir, file), await File.ReadAllBytesAsync(file));
        }

        // Every Kubernetes object and event, but the PAT's own Secret.
        var kube = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(manifest["kubeconfig"]!.GetValue<string>()));
        foreach (var cm in (await kube.CoreV1.ListNamespacedConfigMapAsync("blip")).Items)
        {
            Scan($"configmap {cm.Metadata.Name}", Encoding.UTF8.GetBytes(KubernetesJson.Serialize(cm)));
        }

        foreach (var secret in (await kube.CoreV1.ListNamespacedSecretAsync("blip")).Items.Where(s => s.Metadata.Name != "github-pat"))
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

        Assert.Empty(hits);
    }
}
