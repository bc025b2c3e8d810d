using Blip.Actors.Runners;

namespace Blip.Actors.Tests.Runners;

public sealed class RunnerVersionTests
{
    [Theory]
    [InlineData("2.329.0\n", "2.329.0")]
    [InlineData("  v2.330.1  ", "2.330.1")]
    [InlineData("\n2.331.0\nsomething else", "2.331.0")]
    [InlineData("", null)]
    [InlineData(null, null)]
    [InlineData("bash: ./bin/Runner.Listener: No such file or directory", null)]
    [InlineData("2.329", null)]
    public void Parses_what_runner_listener_version_prints(string? text, string? expected) =>
        Assert.Equal(expected, RunnerVersion.Parse(text)?.ToString());

    [Theory]
    [InlineData("2.329.0", "2.330.0", true)]
    [InlineData("2.330.0", "2.330.0", false)]
    [InlineData("2.331.0", "2.330.0", false)]
    [InlineData("2.99.0", "2.100.0", true)] // compared as numbers, not as text
    [InlineData(null, "2.330.0", false)] // an unknown version is never called outdated
    [InlineData("2.329.0", "", false)] // no minimum: off
    public void A_version_is_below_a_minimum_only_when_both_are_known(string? version, string minimum, bool below) =>
        Assert.Equal(below, RunnerVersion.IsBelow(version, minimum));

    [Fact]
    public void Labels_are_versions_or_unknown_never_free_text()
    {
        Assert.Equal("2.329.0", RunnerVersion.Label("v2.329.0"));
        Assert.Equal("unknown", RunnerVersion.Label("command not found"));
        Assert.Equal("unknown", RunnerVersion.Label(null));
    }
}
