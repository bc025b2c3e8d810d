using System.Security.Cryptography;
using System.Text;
using Blip.Actors.Config;

namespace Blip.Actors.Tests.Config;

public sealed class GitHubAppCredentialsTests
{
    private static readonly string Pem = MakePem();

    private static string MakePem()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportRSAPrivateKeyPem();
    }

    private static Dictionary<string, byte[]> Data(params (string Key, string Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => Encoding.UTF8.GetBytes(e.Value));

    [Fact]
    public void An_absent_secret_is_no_app_and_no_error()
    {
        var reading = GitHubAppCredentials.Read(null);

        Assert.Null(reading.App);
        Assert.Null(reading.Error);
    }

    [Fact]
    public void A_complete_secret_is_an_app_whose_text_never_shows_the_key()
    {
        var reading = GitHubAppCredentials.Read(Data(("app-id", "123456\n"), ("private-key", Pem), ("installation-id", " 42 ")));

        var app = Assert.IsType<GitHubAppCredentials>(reading.App);
        Assert.Equal("123456", app.AppId);
        Assert.Equal(42, app.InstallationId);
        Assert.StartsWith("sha256:", app.KeyFingerprint, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", app.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Pem.Split('\n')[1], app.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_pkcs8_key_and_a_client_id_are_accepted()
    {
        using var rsa = RSA.Create(2048);
        var reading = GitHubAppCredentials.Read(Data(("app-id", "Iv23liABCdef0123"), ("private-key", rsa.ExportPkcs8PrivateKeyPem())));

        Assert.Equal("Iv23liABCdef0123", reading.App!.AppId);
        Assert.Null(reading.App.InstallationId);
    }

    [Theory]
    [InlineData("app-id", null)]
    [InlineData("app-id", "12 34")]
    [InlineData("private-key", null)]
    [InlineData("private-key", "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----")]
    [InlineData("private-key", "PUBLIC")]
    [InlineData("installation-id", "abc")]
    [InlineData("installation-id", "-5")]
    public void A_broken_key_is_named_in_one_error_that_never_quotes_the_private_key(string badKey, string? badValue)
    {
        using var rsa = RSA.Create(2048);
        var values = new Dictionary<string, string> { ["app-id"] = "123", ["private-key"] = Pem };
        if (badValue is null)
        {
            values.Remove(badKey);
        }
        else
        {
            values[badKey] = badValue == "PUBLIC" ? rsa.ExportSubjectPublicKeyInfoPem() : badValue;
        }

        var reading = GitHubAppCredentials.Read(values.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value)));

        Assert.Null(reading.App);
        Assert.Equal(badKey, reading.BadKey);
        Assert.Contains($"Secret github-app: key '{badKey}'", reading.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("MII", reading.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_secret_read_twice_is_equal_and_another_key_is_not()
    {
        var one = GitHubAppCredentials.Read(Data(("app-id", "1"), ("private-key", Pem))).App;
        var again = GitHubAppCredentials.Read(Data(("app-id", "1"), ("private-key", Pem))).App;
        var rotated = GitHubAppCredentials.Read(Data(("app-id", "1"), ("private-key", MakePem()))).App;

        Assert.Equal(one, again);
        Assert.NotEqual(one, rotated);
        Assert.NotEqual(one!.KeyFingerprint, rotated!.KeyFingerprint);
    }
}
