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

    [Fact]
    public void Labels_differing_only_in_case_are_named_with_the_fix()
    {
        var hint = LabelMatcher.CaseHint(Configured, ["self-hosted", "Blip", "linux"]);

        Assert.Contains("they differ only in case (runner label \"blip\" vs runs-on \"Blip\")", hint);
        Assert.Contains("runner-labels key of ConfigMap github-actions", hint);
    }

    [Fact]
    public void A_label_missing_in_any_case_gives_no_case_hint() =>
        Assert.Equal("", LabelMatcher.CaseHint(Configured, ["Blip"]));

    [Fact]
    public void Matching_labels_give_no_case_hint() =>
        Assert.Equal("", LabelMatcher.CaseHint(Configured, ["self-hosted", "blip"]));

    [Fact]
    public void Every_label_differing_in_case_is_named() =>
        Assert.Equal([("self-hosted", "Self-Hosted"), ("blip", "BLIP")], LabelMatcher.CaseOnlyDifferences(Configured, ["BLIP", "Self-Hosted"]));
}
