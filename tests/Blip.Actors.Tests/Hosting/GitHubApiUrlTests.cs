using Blip.Actors.Hosting;

namespace Blip.Actors.Tests.Hosting;

/// <summary>The PAT never travels in clear text: plain http is refused unless the API is on this machine.</summary>
public sealed class GitHubApiUrlTests
{
    [Theory]
    [InlineData("https://api.github.com/")]
    [InlineData("https://ghes.example.com/api/v3/")]
    [InlineData("http://127.0.0.1:40123/")]
    [InlineData("http://127.0.1.7:8080/")]
    [InlineData("http://localhost:8080/")]
    [InlineData("http://[::1]:8080/")]
    public void Https_anywhere_and_http_on_loopback_are_accepted(string url) =>
        Assert.DoesNotContain(new BlipOptions { GitHubApiUrl = url }.Validate(), e => e.Contains("GitHubApiUrl", StringComparison.Ordinal));

    [Theory]
    [InlineData("http://api.github.com/")]
    [InlineData("http://10.0.0.5/api/v3/")]
    [InlineData("http://localhost.example.com/")]
    public void Plain_http_to_another_host_is_refused_with_one_error_naming_the_url_and_the_fix(string url)
    {
        var error = Assert.Single(new BlipOptions { GitHubApiUrl = url }.Validate(), e => e.Contains("GitHubApiUrl", StringComparison.Ordinal));
        Assert.Contains(url, error, StringComparison.Ordinal);
        Assert.Contains("https://", error, StringComparison.Ordinal);
    }
}
