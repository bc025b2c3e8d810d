using System.Text;

namespace Blip.Sandbox.Kubernetes;

/// <summary>What a client of this server needs: a kubeconfig, a KubernetesClient, an HttpClient for the admin API.</summary>
public sealed partial class KubeApiEmulator
{
    /// <summary>Writes a kubeconfig for this server (admin token unless another is given), namespace blip; returns the path.</summary>
    public string WriteKubeconfig(string path, string? token = null)
    {
        var ca = Convert.ToBase64String(Encoding.ASCII.GetBytes(CaCertificatePem));
        var ns = _options.Namespaces.FirstOrDefault() ?? "default";
        var yaml = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: blip-sandbox
              cluster:
                server: {Url.GetLeftPart(UriPartial.Authority)}
                certificate-authority-data: {ca}
            users:
            - name: blip-sandbox-user
              user:
                token: {token ?? AdminToken}
            contexts:
            - name: blip-sandbox
              context:
                cluster: blip-sandbox
                user: blip-sandbox-user
                namespace: {ns}
            current-context: blip-sandbox

            """;
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        File.WriteAllText(path, yaml);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    /// <summary>A KubernetesClient that trusts this server's CA and sends the token (admin unless given).</summary>
    public k8s.Kubernetes CreateClient(string? token = null)
    {
        var config = new k8s.KubernetesClientConfiguration
        {
            Host = Url.GetLeftPart(UriPartial.Authority),
            AccessToken = token ?? AdminToken,
            SslCaCerts = [System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(_certificates.Ca.RawData)],
            Namespace = _options.Namespaces.FirstOrDefault(),
        };
        return new k8s.Kubernetes(config);
    }

    /// <summary>A plain HttpClient on this server (its CA trusted, the token sent; admin unless given): for the
    /// sandbox admin API under <c>/_sandbox/</c>.</summary>
    public HttpClient CreateHttpClient(string? token = null)
    {
        var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(_certificates.Ca.RawData);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(cert!);
            },
        };
        var http = new HttpClient(handler) { BaseAddress = Url };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token ?? AdminToken);
        return http;
    }
}
