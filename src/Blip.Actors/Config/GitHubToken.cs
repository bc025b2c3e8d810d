namespace Blip.Actors.Config;

/// <summary>
/// The PAT from Secret <c>github-pat</c>, key <c>token</c>. Surrounding whitespace (the trailing newline
/// that <c>--from-file</c> or <c>echo</c> leaves) is trimmed: no GitHub token contains whitespace.
/// The value never appears in <see cref="ToString"/>, so it cannot reach a log by accident.
/// </summary>
public sealed class GitHubToken : IEquatable<GitHubToken>
{
    public const string SecretName = "github-pat";
    public const string TokenKey = "token";

    private GitHubToken(string value) => Value = value;

    public string Value { get; }

    /// <summary>A short, non-reversible fingerprint for logs and inspection ("pat sha256:1a2b3c4d").</summary>
    public string Fingerprint =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Value)))[..8];

    public static GitHubToken? FromSecretValue(byte[]? raw)
    {
        if (raw is null)
        {
            return null;
        }

        var value = System.Text.Encoding.UTF8.GetString(raw).Trim();
        return value.Length == 0 ? null : new GitHubToken(value);
    }

    public static GitHubToken FromString(string value) =>
        FromSecretValue(System.Text.Encoding.UTF8.GetBytes(value)) ?? throw new ArgumentException("token is empty", nameof(value));

    public bool Equals(GitHubToken? other) =>
        other is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(Value), System.Text.Encoding.UTF8.GetBytes(other.Value));

    public override bool Equals(object? obj) => Equals(obj as GitHubToken);

    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => $"pat {Fingerprint}";
}
