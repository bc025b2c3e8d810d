using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Blip.Actors.Config;

/// <summary>
/// A GitHub App from Secret <c>github-app</c>: <c>app-id</c> (the numeric App ID, or the App's client ID, which GitHub
/// also accepts as the JWT issuer), <c>private-key</c> (the PEM GitHub generated: <c>BEGIN RSA PRIVATE KEY</c>, or PKCS#8
/// <c>BEGIN PRIVATE KEY</c>) and optionally <c>installation-id</c> (else found per repo). The key never appears in
/// <see cref="ToString"/>, an error or a log: only a fingerprint of its public half does.
/// </summary>
public sealed class GitHubAppCredentials : IEquatable<GitHubAppCredentials>
{
    public const string SecretName = "github-app";
    public const string AppIdKey = "app-id";
    public const string PrivateKeyKey = "private-key";
    public const string InstallationIdKey = "installation-id";

    private readonly string _privateKeyPem;

    private GitHubAppCredentials(string appId, string privateKeyPem, long? installationId, string keyFingerprint)
    {
        AppId = appId;
        _privateKeyPem = privateKeyPem;
        InstallationId = installationId;
        KeyFingerprint = keyFingerprint;
    }

    /// <summary>The JWT issuer: the App ID or its client ID.</summary>
    public string AppId { get; }

    /// <summary>Set in the Secret: every repo uses this installation, no lookup.</summary>
    public long? InstallationId { get; }

    /// <summary>sha256 of the public key (8 hex digits): tells keys apart in logs without revealing anything.</summary>
    public string KeyFingerprint { get; }

    /// <summary>Reads the Secret's data. Absent Secret: <see cref="GitHubAppReading.Absent"/>; one bad or missing key:
    /// <see cref="GitHubAppReading.Broken"/> naming it (never quoting its value).</summary>
    public static GitHubAppReading Read(IReadOnlyDictionary<string, byte[]>? data)
    {
        if (data is null)
        {
            return GitHubAppReading.Absent;
        }

        string? Text(string key) => data.TryGetValue(key, out var raw) ? Encoding.UTF8.GetString(raw).Trim() : null;

        var appId = Text(AppIdKey);
        if (string.IsNullOrEmpty(appId))
        {
            return GitHubAppReading.Broken(AppIdKey, "is missing or empty: set it to the App ID (a number) or the App's client ID");
        }

        if (!IsAppId(appId))
        {
            return GitHubAppReading.Broken(AppIdKey, "is neither an App ID (digits) nor a client ID (letters and digits, e.g. Iv23li…)");
        }

        var pem = Text(PrivateKeyKey);
        if (string.IsNullOrEmpty(pem))
        {
            return GitHubAppReading.Broken(PrivateKeyKey, "is missing or empty: put the .pem file GitHub generated for the App there");
        }

        string fingerprint;
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                return GitHubAppReading.Broken(PrivateKeyKey, $"is an RSA key of {rsa.KeySize} bits; GitHub App keys have 2048 or more");
            }

            // A public key alone imports too, but cannot sign.
            rsa.ExportParameters(includePrivateParameters: true);
            fingerprint = Convert.ToHexStringLower(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..8];
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return GitHubAppReading.Broken(PrivateKeyKey, "is not a PEM RSA private key (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)");
        }

        long? installationId = null;
        var installation = Text(InstallationIdKey);
        if (!string.IsNullOrEmpty(installation))
        {
            if (!long.TryParse(installation, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            {
                return GitHubAppReading.Broken(InstallationIdKey, $"must be a positive number (the installation's id), not '{Shorten(installation)}'; or remove it to find the installation per repo");
            }

            installationId = id;
        }

        return GitHubAppReading.Valid(new GitHubAppCredentials(appId, pem, installationId, "sha256:" + fingerprint));
    }

    private static bool IsAppId(string value) =>
        value.Length <= 64 && value.All(char.IsAsciiLetterOrDigit);

    private static string Shorten(string value) => value.Length <= 24 ? value : value[..24] + "…";

    /// <summary>A new RSA holding the private key; the caller disposes it.</summary>
    public RSA CreateSigningKey()
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(_privateKeyPem);
        return rsa;
    }

    public bool Equals(GitHubAppCredentials? other) =>
        other is not null && AppId == other.AppId && InstallationId == other.InstallationId
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(_privateKeyPem), Encoding.UTF8.GetBytes(other._privateKeyPem));

    public override bool Equals(object? obj) => Equals(obj as GitHubAppCredentials);

    public override int GetHashCode() => HashCode.Combine(AppId, InstallationId, KeyFingerprint);

    public override string ToString() =>
        $"GitHub App {AppId} (key {KeyFingerprint}{(InstallationId is { } id ? $", installation {id}" : "")})";
}

/// <summary>What Secret <c>github-app</c> holds: nothing, a usable App, or one named problem.</summary>
public sealed record GitHubAppReading(GitHubAppCredentials? App, string? BadKey, string? Problem)
{
    public static readonly GitHubAppReading Absent = new(null, null, null);

    public static GitHubAppReading Valid(GitHubAppCredentials app) => new(app, null, null);

    public static GitHubAppReading Broken(string key, string problem) => new(null, key, problem);

    /// <summary>The one error line for a broken Secret: names the key and the fix, never the value.</summary>
    public string? Error => BadKey is null ? null : $"Secret {GitHubAppCredentials.SecretName}: key '{BadKey}' {Problem}; GitHub App authentication is off until it is fixed (the PAT of Secret {GitHubToken.SecretName}, if present, is used meanwhile)";
}
