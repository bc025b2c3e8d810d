using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Blip.Actors.Config;
using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class GitHubTrustTests
{
    private static (X509Certificate2 Ca, X509Certificate2 Server) IssueChain(string caName)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={caName}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ghes.example", serverKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var server = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), [1, 2, 3, 4]);
        return (ca, server);
    }

    private static GitHubCaBundle Bundle(X509Certificate2 ca) =>
        GitHubCaBundle.Read(("ConfigMap", Encoding.UTF8.GetBytes(ca.ExportCertificatePem()))).Bundle!;

    [Fact]
    public void A_certificate_from_the_bundles_ca_is_trusted_when_the_system_roots_do_not_know_it()
    {
        var (ca, server) = IssueChain("private-ca");

        Assert.True(GitHubTrust.Accepts(server, SslPolicyErrors.RemoteCertificateChainErrors, Bundle(ca)));
    }

    [Fact]
    public void Without_a_bundle_or_with_another_ca_the_certificate_is_refused()
    {
        var (_, server) = IssueChain("private-ca");
        var (otherCa, _) = IssueChain("other-ca");

        Assert.False(GitHubTrust.Accepts(server, SslPolicyErrors.RemoteCertificateChainErrors, null));
        Assert.False(GitHubTrust.Accepts(server, SslPolicyErrors.RemoteCertificateChainErrors, Bundle(otherCa)));
    }

    [Fact]
    public void A_name_mismatch_is_never_forgiven_by_the_bundle()
    {
        var (ca, server) = IssueChain("private-ca");

        Assert.False(GitHubTrust.Accepts(server, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors, Bundle(ca)));
        Assert.True(GitHubTrust.Accepts(server, SslPolicyErrors.None, null));
    }

    [Fact]
    public void A_bundle_without_certificates_is_named_by_object_and_key()
    {
        var (bundle, error) = GitHubCaBundle.Read(("Secret", Encoding.UTF8.GetBytes("hello")), ("ConfigMap", null));

        Assert.Null(bundle);
        Assert.Contains("Secret github-ca: key 'ca.crt'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundles_of_the_secret_and_the_configmap_add_up()
    {
        var (one, _) = IssueChain("one");
        var (two, _) = IssueChain("two");

        var (bundle, error) = GitHubCaBundle.Read(("Secret", Encoding.UTF8.GetBytes(one.ExportCertificatePem())), ("ConfigMap", Encoding.UTF8.GetBytes(two.ExportCertificatePem())));

        Assert.Null(error);
        Assert.Equal(2, bundle!.Certificates.Count);
    }
}
