using Blip.Actors.Hosting;
using Blip.Actors.Inspection;

namespace Blip.Actors.Tests.Inspection;

public sealed class ManagementBindingTests
{
    [Theory]
    [InlineData("http://127.0.0.1:9110")]
    [InlineData("http://localhost:0")]
    [InlineData("http://[::1]:9110")]
    public void Loopback_needs_no_token(string url)
    {
        var binding = ManagementBinding.Parse(url, null, out var error);

        Assert.Null(error);
        Assert.True(binding!.Loopback);
        Assert.False(binding.RequiresToken);
    }

    [Fact]
    public void Listening_beyond_loopback_without_a_token_is_refused_with_one_clear_error()
    {
        var options = new BlipOptions { ManagementUrl = "http://0.0.0.0:9110" };

        var errors = options.Validate();

        Assert.Equal(["Blip:ManagementToken is required when Blip:ManagementUrl 'http://0.0.0.0:9110' listens beyond loopback"], errors);
    }

    [Fact]
    public void A_configured_token_is_required_even_on_loopback()
    {
        var binding = ManagementBinding.Parse("http://127.0.0.1:9110", "s3cret", out _);

        Assert.True(binding!.RequiresToken);
        Assert.Equal("s3cret", binding.Token);
    }

    [Fact]
    public void An_empty_url_disables_the_endpoint()
    {
        Assert.Null(ManagementBinding.Parse("", null, out var error));
        Assert.Null(error);
        Assert.Empty(new BlipOptions { ManagementUrl = "" }.Validate());
    }

    [Theory]
    [InlineData("127.0.0.1:9110")]
    [InlineData("https://127.0.0.1:9110")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://127.0.0.1:99999")]
    public void A_malformed_url_is_named(string url)
    {
        ManagementBinding.Parse(url, null, out var error);

        Assert.Contains($"'{url}'", error);
    }

    [Fact]
    public void The_default_listens_on_loopback_port_9110() =>
        Assert.Equal("http://127.0.0.1:9110", new BlipOptions().ManagementUrl);

    [Theory]
    [InlineData("/api/v1/namespaces/blip/secrets/github-pat", "secrets")]
    [InlineData("/api/v1/namespaces/blip/configmaps", "configmaps")]
    [InlineData("/apis/kubevirt.io/v1/namespaces/blip/virtualmachines/blip-a", "virtualmachines")]
    [InlineData("/api/v1/namespaces/blip", "namespaces")]
    [InlineData("/api/v1/namespaces/blip/events", "events")]
    public void Kubernetes_requests_are_counted_by_resource(string path, string resource) =>
        Assert.Equal(resource, KubernetesRequestCounter.ResourceOf(new Uri("https://k8s.example" + path)));
}
