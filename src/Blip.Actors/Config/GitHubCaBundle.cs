using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Blip.Actors.Config;

/// <summary>
/// Extra CA certificates trusted for <c>GitHubApiUrl</c> in addition to the system roots (GitHub Enterprise Server behind
/// a private CA): key <c>ca.crt</c> of Secret or ConfigMap <c>github-ca</c>, one or more PEM certificates. Both objects
/// may exist; their certificates add up.
/// </summary>
public sealed class GitHubCaBundle
{
    public const string ObjectName = "github-ca";
    public const string Key = "ca.crt";

    private GitHubCaBundle(X509Certificate2Collection certificates, string fingerprint)
    {
        Certificates = certificates;
        Fingerprint = fingerprint;
    }

    public X509Certificate2Collection Certificates { get; }

    /// <summary>sha256 over the certificates (8 hex digits), to tell bundles apart in logs.</summary>
    public string Fingerprint { get; }

    /// <summary>Reads <c>ca.crt</c> from each source (null = that object is absent). Null bundle with no error: nothing to
    /// trust; an error names the object and the key.</summary>
    public static (GitHubCaBundle? Bundle, string? Error) Read(params (string Source, byte[]? Pem)[] sources)
    {
        var all = new X509Certificate2Collection();
        foreach (var (source, pem) in sources)
        {
            if (pem is null)
            {
                continue;
            }

            var text = Encoding.UTF8.GetString(pem);
            var before = all.Count;
            try
            {
                all.ImportFromPem(text);
            }
            catch (CryptographicException)
            {
                return (null, $"{source} {ObjectName}: key '{Key}' is not a PEM certificate bundle (-----BEGIN CERTIFICATE----- …); no extra CA is trusted until it is fixed");
            }

            if (all.Count == before)
            {
                return (null, $"{source} {ObjectName}: key '{Key}' holds no PEM certificate (-----BEGIN CERTIFICATE----- …); no extra CA is trusted until it is fixed");
            }
        }

        if (all.Count == 0)
        {
            return (null, null);
        }

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(all.SelectMany(c => c.RawData).ToArray()))[..8];
        return (new GitHubCaBundle(all, "sha256:" + fingerprint), null);
    }

    public override string ToString() => $"{Certificates.Count} CA certificate(s) {Fingerprint}";
}
