using Blip.Actors.Config;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Config;

public sealed class ActionsConfigTests
{
    [Fact]
    public void Spec_example_parses_to_labels_and_repos()
    {
        var result = ActionsConfig.Parse("self-hosted,blip", "my-org/my-repo");

        Assert.NotNull(result.Config);
        Assert.Equal(["self-hosted", "blip"], result.Config!.RunnerLabels.ToArray());
        Assert.Equal([new RepoName("my-org", "my-repo")], result.Config.Repos.ToArray());
        Assert.Empty(result.Problems);
    }

    [Fact]
    public void Entries_are_trimmed_and_empty_entries_dropped()
    {
        var result = ActionsConfig.Parse(" self-hosted , ,blip,", "a/b, ,c/d ,\n");

        Assert.Equal(["self-hosted", "blip"], result.Config!.RunnerLabels.ToArray());
        Assert.Equal(["a/b", "c/d"], result.Config.Repos.Select(r => r.FullName));
    }

    [Fact]
    public void Duplicate_labels_are_dropped_but_labels_differing_in_case_are_kept()
    {
        var result = ActionsConfig.Parse("blip,blip,Blip", "a/b");

        Assert.Equal(["blip", "Blip"], result.Config!.RunnerLabels.ToArray());
    }

    [Fact]
    public void Duplicate_repos_are_dropped_case_insensitively_like_github()
    {
        var result = ActionsConfig.Parse("blip", "a/b,A/B,a/b");

        Assert.Equal(["a/b"], result.Config!.Repos.Select(r => r.FullName));
        Assert.Empty(result.Problems);
    }

    [Theory]
    [InlineData("owner", "is not of the form owner/name")]
    [InlineData("owner/repo/extra", "is not of the form owner/name")]
    [InlineData("own er/repo", "invalid owner 'own er'")]
    [InlineData("-owner/repo", "invalid owner '-owner'")]
    [InlineData("owner/re$po", "invalid name 're$po'")]
    [InlineData("owner/..", "invalid name '..'")]
    [InlineData("/repo", "invalid owner ''")]
    public void A_malformed_repo_is_named_and_the_valid_ones_still_work(string bad, string expected)
    {
        var result = ActionsConfig.Parse("blip", $"good/one,{bad},good/two");

        Assert.Equal(["good/one", "good/two"], result.Config!.Repos.Select(r => r.FullName));
        var problem = Assert.Single(result.Problems);
        Assert.Contains($"'{bad}'", problem);
        Assert.Contains(expected, problem);
    }

    [Theory]
    [InlineData(null, "a/b", "runner-labels is empty")]
    [InlineData(" , ", "a/b", "runner-labels is empty")]
    [InlineData("blip", "", "repos has no valid entry")]
    [InlineData("blip", "nope", "repos has no valid entry")]
    [InlineData("", null, "runner-labels and repos are empty")]
    public void Empty_labels_or_repos_make_the_config_incomplete(string? labels, string? repos, string why)
    {
        var result = ActionsConfig.Parse(labels, repos);

        Assert.Null(result.Config);
        Assert.Equal(why, result.Incomplete);
    }

    [Fact]
    public void More_than_the_repo_cap_is_refused_with_one_line_and_the_first_ones_kept()
    {
        var repos = string.Join(',', Enumerable.Range(0, ActionsConfig.MaxRepos + 5).Select(i => $"org/r{i}"));

        var result = ActionsConfig.Parse("blip", repos);

        Assert.Equal(ActionsConfig.MaxRepos, result.Config!.Repos.Length);
        var problem = Assert.Single(result.Problems);
        Assert.Contains($"org/r{ActionsConfig.MaxRepos}", problem);
    }

    [Fact]
    public void A_huge_bad_value_is_shortened_in_the_problem_line()
    {
        var huge = new string('x', 100_000);

        var result = ActionsConfig.Parse("blip", huge);

        var problem = Assert.Single(result.Problems);
        Assert.True(problem.Length < 400, $"problem line is {problem.Length} chars");
        Assert.Contains("100000 chars", problem);
    }

    [Fact]
    public void Configs_with_the_same_entries_are_equal()
    {
        var a = ActionsConfig.Parse("self-hosted,blip", "a/b,c/d").Config;
        var b = ActionsConfig.Parse(" self-hosted,blip ", "a/b, c/d").Config;
        var c = ActionsConfig.Parse("blip,self-hosted", "a/b,c/d").Config;

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
