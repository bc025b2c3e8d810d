using System.Text.Json;
using System.Text.Json.Serialization;

namespace Blip.Sandbox.Cli;

/// <summary><c>STATE/sandbox.json</c>: where everything in a running sandbox is, for people and tests.</summary>
/// <param name="GitHubAdminToken">The emulator's <c>/_sandbox/</c> admin token (not a GitHub secret; tests need it).</param>
/// <param name="Pat">The PAT the demo wrote to Secret github-pat (or that you write, with --no-demo).</param>
/// <param name="WebhookUrl">With --webhooks: controller 0's webhook receiver, where the GitHub emulator delivers.</param>
/// <param name="WebhookSecret">With --webhooks: the secret in Secret github-webhook that signs the deliveries.</param>
public sealed record SandboxManifest(
    string Namespace,
    string Kubeconfig,
    string KubeApiUrl,
    [property: JsonPropertyName("githubUrl")] string GitHubUrl,
    [property: JsonPropertyName("githubAdminToken")] string GitHubAdminToken,
    string Pat,
    IReadOnlyList<SandboxManifest.Vm> Vms,
    IReadOnlyList<SandboxManifest.Controller> Controllers,
    string? WebhookUrl = null,
    string? WebhookSecret = null)
{
    public const string FileName = "sandbox.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public sealed record Vm(string Name, string Address, int Port);

    /// <param name="ManagementUrl">Its management endpoint: <c>blipctl --endpoint URL …</c>.</param>
    public sealed record Controller(int Pid, string? ManagementUrl, string Log);

    public static SandboxManifest Of(SandboxWorld world, IEnumerable<ControllerProcess> controllers, SandboxWebhooks? webhooks = null) => new(
        world.Namespace,
        world.AdminKubeconfig,
        world.Kube.Url.ToString(),
        world.GitHub.Url.ToString(),
        world.GitHub.AdminToken,
        world.Pat,
        world.Pool.Vms.Select(v => new Vm(v.Name, v.Address.ToString(), v.Port)).ToList(),
        controllers.Select(c => new Controller(c.Pid, c.ManagementUrl, c.LogPath)).ToList(),
        webhooks?.DeliveryUrl.ToString(),
        webhooks?.Secret);

    public async Task<string> WriteAsync(string stateDir, CancellationToken ct)
    {
        var path = Path.Combine(stateDir, FileName);
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(this, Json), ct);
        // Only root reads the PAT, the admin token and the webhook secret; the sandbox VMs' runner user must not.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, path, overwrite: true);
        return path;
    }

    public static SandboxManifest? Read(string path) =>
        JsonSerializer.Deserialize<SandboxManifest>(File.ReadAllText(path), Json);
}
