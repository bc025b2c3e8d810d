namespace Blip.Actors.Config;

/// <summary>
/// The secrets the controller holds in memory only: the PAT, the GitHub App and the SSH client key, kept current by the
/// ConfigWatcher from their Secrets. Adapters read them at the moment of each call, so a rotation is used
/// by the very next call. Nothing here is ever logged, persisted or put on a command line.
/// </summary>
public sealed class ControllerSecrets
{
    public const string SshKeySecretName = "ssh-gateway-client-key";
    public const string SshKeyKey = "client_key";
    public const string WebhookSecretName = "github-webhook";
    public const string WebhookSecretKey = "secret";

    private volatile GitHubToken? _gitHubToken;
    private volatile byte[]? _sshClientKey;
    private volatile byte[]? _webhookSecret;
    private volatile GitHubAppCredentials? _gitHubApp;
    private volatile GitHubCaBundle? _gitHubCa;

    /// <summary>The GitHub App of Secret <c>github-app</c> when it is present and complete; it then authenticates every
    /// GitHub call instead of the PAT.</summary>
    public GitHubAppCredentials? GitHubApp
    {
        get => _gitHubApp;
        set => _gitHubApp = value;
    }

    /// <summary>Extra CAs trusted for GitHubApiUrl (Secret or ConfigMap <c>github-ca</c>), read at each TLS handshake.</summary>
    public GitHubCaBundle? GitHubCa
    {
        get => _gitHubCa;
        set => _gitHubCa = value;
    }

    /// <summary>The shared secret GitHub signs webhook deliveries with (Secret <c>github-webhook</c>, key <c>secret</c>).</summary>
    public byte[]? WebhookSecret
    {
        get => _webhookSecret;
        set => _webhookSecret = value;
    }

    public GitHubToken? GitHubToken
    {
        get => _gitHubToken;
        set => _gitHubToken = value;
    }

    public byte[]? SshClientKey
    {
        get => _sshClientKey;
        set
        {
            var changed = !(value ?? []).AsSpan().SequenceEqual(_sshClientKey ?? []) || (value is null) != (_sshClientKey is null);
            _sshClientKey = value;
            if (changed)
            {
                SshClientKeyChanged?.Invoke();
            }
        }
    }

    /// <summary>Raised when the SSH client key changes (loaded, rotated or removed).</summary>
    public event Action? SshClientKeyChanged;
}
