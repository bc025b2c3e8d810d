using System.Security.Cryptography;
using System.Text;

namespace Blip.Sandbox.Cli;

/// <summary>
/// <c>--webhooks</c>: controller 0 runs its webhook receiver on a free loopback port, the GitHub emulator delivers
/// signed <c>workflow_job</c> events there, and Secret <c>github-webhook</c> holds the secret that signs them.
/// </summary>
public sealed record SandboxWebhooks(int Port, string Secret)
{
    public const string SecretName = "github-webhook";
    public const string SecretKey = "secret";

    /// <summary>Where GitHub (here: its emulator) posts deliveries.</summary>
    public Uri DeliveryUrl => new($"http://127.0.0.1:{Port}/webhooks/github");

    public IDictionary<string, byte[]> SecretData => new Dictionary<string, byte[]> { [SecretKey] = Encoding.UTF8.GetBytes(Secret) };

    public static SandboxWebhooks Create() => new(ControllerProcess.FreeLoopbackPort(), Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant());

    /// <summary>The node as started with webhooks: node 0 listens for them, the others only poll.</summary>
    public ControllerNode Receiving(ControllerNode node)
    {
        if (node.Index != 0)
        {
            return node;
        }

        var settings = new Dictionary<string, string>(node.Settings ?? new Dictionary<string, string>())
        {
            ["Blip__WebhookUrl"] = $"http://127.0.0.1:{Port}",
        };
        return node with { Settings = settings };
    }
}
