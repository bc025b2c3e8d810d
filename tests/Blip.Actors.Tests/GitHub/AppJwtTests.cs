using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class AppJwtTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_jwt_is_rs256_backdated_a_minute_expires_within_ten_and_names_the_app()
    {
        using var key = RSA.Create(2048);

        var jwt = AppJwt.Create("123456", key, Now);

        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        Assert.Equal("RS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal(123456, payload.RootElement.GetProperty("iss").GetInt64());
        var iat = DateTimeOffset.FromUnixTimeSeconds(payload.RootElement.GetProperty("iat").GetInt64());
        var exp = DateTimeOffset.FromUnixTimeSeconds(payload.RootElement.GetProperty("exp").GetInt64());
        Assert.Equal(Now.AddSeconds(-60), iat);
        Assert.True(exp > Now && exp <= Now.AddMinutes(10), $"exp {exp:O}");
        Assert.True(exp - iat <= TimeSpan.FromMinutes(10), $"lifetime {exp - iat}");
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void A_client_id_is_the_issuer_as_a_string()
    {
        using var key = RSA.Create(2048);

        var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(AppJwt.Create("Iv23liXyz", key, Now).Split('.')[1]));

        Assert.Equal("Iv23liXyz", payload.RootElement.GetProperty("iss").GetString());
    }

    [Fact]
    public void A_jwt_is_renewed_a_minute_before_it_expires()
    {
        Assert.Equal(Now + AppJwt.Lifetime - TimeSpan.FromMinutes(1), AppJwt.RenewAt(Now));
    }
}
