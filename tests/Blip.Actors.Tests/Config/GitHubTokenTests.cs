using System.Text;
using Blip.Actors.Config;

namespace Blip.Actors.Tests.Config;

public sealed class GitHubTokenTests
{
    [Theory]
    [InlineData("ghp_abc\n")]
    [InlineData("  ghp_abc \r\n")]
    [InlineData("ghp_abc")]
    public void Surrounding_whitespace_is_trimmed(string raw) =>
        Assert.Equal("ghp_abc", GitHubToken.FromSecretValue(Encoding.UTF8.GetBytes(raw))!.Value);

    [Theory]
    [InlineData("")]
    [InlineData(" \n ")]
    public void An_empty_token_is_no_token(string raw) =>
        Assert.Null(GitHubToken.FromSecretValue(Encoding.UTF8.GetBytes(raw)));

    [Fact]
    public void ToString_never_shows_the_value()
    {
        var token = GitHubToken.FromString("ghp_supersecret123");

        Assert.DoesNotContain("supersecret", token.ToString());
        Assert.StartsWith("pat sha256:", token.ToString());
    }

    [Fact]
    public void Tokens_compare_by_value() =>
        Assert.Equal(GitHubToken.FromString("a"), GitHubToken.FromString("a\n"));
}
