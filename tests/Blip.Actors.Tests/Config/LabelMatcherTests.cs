using Blip.Actors.Config;

namespace Blip.Actors.Tests.Config;

public sealed class LabelMatcherTests
{
    private static readonly string[] Configured = ["self-hosted", "blip"];

    [Fact]
    public void Job_with_exactly_the_runner_labels_matches() =>
        Assert.True(LabelMatcher.Matches(Configured, ["self-hosted", "blip"]));

    [Fact]
    public void Job_with_extra_labels_matches() =>
        Assert.True(LabelMatcher.Matches(Configured, ["gpu", "blip", "self-hosted"]));

    [Fact]
    public void Job_missing_a_runner_label_does_not_match() =>
        Assert.False(LabelMatcher.Matches(Configured, ["self-hosted"]));

    [Fact]
    public void Label_comparison_is_case_sensitive() =>
        Assert.False(LabelMatcher.Matches(Configured, ["self-hosted", "Blip"]));

    [Fact]
    public void Job_without_labels_does_not_match() =>
        Assert.False(LabelMatcher.Matches(Configured, []));

    [Fact]
    public void No_configured_labels_matches_nothing() =>
        Assert.False(LabelMatcher.Matches([], ["self-hosted"]));
}
