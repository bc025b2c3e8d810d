using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Blip.Sandbox.Kubernetes;

/// <summary>A throwaway CA and a server certificate it signs for 127.0.0.1/localhost, made at start.</summary>
internal sealed class ServingCertificates : IDisposable
{
    private ServingCertificates(X509Certificate2 ca, X509Certificate2 server)
    {
        Ca = ca;
        Server = server;
    }

    public X509Certificate2 Ca { get; }

    /// <summary>With its private key, loaded from PKCS#12 so TLS can use it on every platform.</summary>
    public X509Certificate2 Server { get; }

    public string CaPem => Ca.ExportCertificatePem() + "\n";

    public static ServingCertificates Create(IPAddress address)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=blip-sandbox-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var caWithKey = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=blip-sandbox-apiserver", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(address);
        if (!address.Equals(IPAddress.Loopback))
        {
            san.AddIpAddress(IPAddress.Loopback);
        }

        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caWithKey, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var signed = request.Create(caWithKey, now.AddMinutes(-5), now.AddDays(30), serial);
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        var server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        var ca = X509CertificateLoader.LoadCertificate(caWithKey.RawData);
        return new ServingCertificates(ca, server);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
    }
}
