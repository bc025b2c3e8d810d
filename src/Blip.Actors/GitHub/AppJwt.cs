using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Blip.Actors.GitHub;

/// <summary>
/// The JWT a GitHub App authenticates as itself with (GitHub docs, "Generating a JSON Web Token (JWT) for a GitHub App"):
/// RS256; <c>iat</c> 60 s in the past against clock drift; <c>exp</c> at most 10 minutes ahead (here 9, so a slow clock
/// on GitHub's side never sees it too far out); <c>iss</c> the App ID or client ID. Signing is
/// System.Security.Cryptography's; this only assembles the three base64url parts.
/// </summary>
public static class AppJwt
{
    public static readonly TimeSpan Backdate = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(9);

    private static readonly string Header = Base64Url.EncodeToString("""{"alg":"RS256","typ":"JWT"}"""u8);

    public static string Create(string issuer, RSA key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        var iat = (now - Backdate).ToUnixTimeSeconds();
        var exp = (now + Lifetime).ToUnixTimeSeconds();
        var issuerJson = long.TryParse(issuer, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric)
            ? numeric.ToString(CultureInfo.InvariantCulture)
            : System.Text.Json.JsonSerializer.Serialize(issuer);
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $$"""{"iat":{{iat}},"exp":{{exp}},"iss":{{issuerJson}}}""")));
        var signingInput = Header + "." + payload;
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>When a JWT made at <paramref name="madeAt"/> should be replaced: a minute before it expires.</summary>
    public static DateTimeOffset RenewAt(DateTimeOffset madeAt) => madeAt + Lifetime - TimeSpan.FromMinutes(1);
}
