using Blip.Actors.Kubernetes;
using k8s;

namespace Blip.Actors.Tests.Kubernetes;

public sealed class KubeClientFactoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("blip-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_kubeconfig_reads_as_the_client_reads_it_relative_paths_included()
    {
        // A relative certificate-authority path is relative to the kubeconfig's directory, not the working directory.
        using var key = System.Security.Cryptography.ECDsa.Create();
        using var ca = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=blip-test-ca", key, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), ca.ExportCertificatePem());
        var path = Path.Combine(_dir, "config");
        File.WriteAllText(path, """
            apiVersion: v1
            kind: Config
            current-context: blip
            preferences: {}
            clusters:
            - name: other
              cluster:
                server: https://127.0.0.2:6443
            - name: sandbox
              cluster:
                server: https://127.0.0.1:16443
                certificate-authority: ca.crt
                tls-server-name: kubernetes.default
            contexts:
            - name: other
              context:
                cluster: other
                user: other
            - name: blip
              context:
                cluster: sandbox
                user: controller
                namespace: blip-system
            users:
            - name: other
              user:
                token: other-token
            - name: controller
              user:
                token: controller-token
            """);

        var ours = KubernetesClientConfiguration.BuildConfigFromConfigObject(KubeClientFactory.LoadKubeconfig(path));
        var theirs = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);

        Assert.Equal("https://127.0.0.1:16443", ours.Host);
        Assert.Equal("blip", ours.CurrentContext);
        Assert.Equal("blip-system", ours.Namespace);
        Assert.Equal("controller-token", ours.AccessToken);
        Assert.Equal("kubernetes.default", ours.TlsServerName);
        Assert.Equal(ca.Thumbprint, Assert.Single(ours.SslCaCerts).Thumbprint);
        Assert.Equal((theirs.Host, theirs.CurrentContext, theirs.Namespace, theirs.AccessToken, theirs.TlsServerName, theirs.SkipTlsVerify),
            (ours.Host, ours.CurrentContext, ours.Namespace, ours.AccessToken, ours.TlsServerName, ours.SkipTlsVerify));
    }

    [Fact]
    public void An_empty_kubeconfig_is_one_error_naming_the_file()
    {
        var path = Path.Combine(_dir, "empty");
        File.WriteAllText(path, "");

        var error = Assert.Throws<InvalidOperationException>(() => KubeClientFactory.LoadKubeconfig(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
