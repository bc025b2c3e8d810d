using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Blip.Actors.Config;

namespace Blip.Actors.GitHub;

/// <summary>
/// TLS to GitHub: the system roots, plus the CA bundle of <c>github-ca</c> when there is one (read at each handshake, so
/// a changed bundle counts from the next connection). Verification is never turned off: a certificate that chains to
/// neither, or names another host, is refused, and the refusal says what to do.
/// </summary>
public sealed class GitHubTrust(ControllerSecrets secrets)
{
    /// <summary>The HTTP handler for Octokit, as Octokit's own default (no redirects, decompression) with this trust.</summary>
    public HttpMessageHandler CreateHandler() => new HttpClientHandler
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => Accepts(certificate, errors, secrets.GitHubCa),
    };

    /// <summary>The system's verdict, or, when only the chain failed and a bundle is configured, the chain built to the
    /// bundle's certificates instead. Name mismatches are never forgiven.</summary>
    public static bool Accepts(X509Certificate2? certificate, SslPolicyErrors errors, GitHubCaBundle? bundle)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || bundle is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(bundle.Certificates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <summary>A clear message when <paramref name="e"/> is a refused certificate; null for any other failure.</summary>
    public static string? Explain(Exception e, string apiUrl, bool haveBundle)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException)
            {
                return haveBundle
                    ? $"TLS certificate of {apiUrl} refused: it chains neither to a system root nor to the CA bundle of {GitHubCaBundle.ObjectName} (key {GitHubCaBundle.Key}), or names another host; check the bundle holds the CA that issued GitHub Enterprise Server's certificate"
                    : $"TLS certificate of {apiUrl} refused: it does not chain to a system root; for GitHub Enterprise Server with a private CA, put the CA certificate (PEM) in Secret or ConfigMap {GitHubCaBundle.ObjectName}, key {GitHubCaBundle.Key}";
            }
        }

        return null;
    }
}
