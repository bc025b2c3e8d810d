using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Runners;

public sealed class RunnerNameTests
{
    [Fact]
    public void A_new_name_carries_the_job_and_parses_back_to_itself()
    {
        var name = RunnerName.New(new JobId(12345));

        Assert.Matches("^blip-12345-[0-9a-f]{8}$", name.ToString());
        Assert.Equal(name, RunnerName.TryParse(name.ToString()));
    }

    [Fact]
    public void Two_attempts_for_one_job_get_different_names() =>
        Assert.NotEqual(RunnerName.New(new JobId(7)).ToString(), RunnerName.New(new JobId(7)).ToString());

    [Theory]
    [InlineData("blip-42-a1b2", 42L, "a1b2")]
    [InlineData("blip-42", 42L, "")]
    [InlineData("blip-42-a1b2-c3", 42L, "a1b2-c3")]
    public void Our_names_parse_to_their_job_and_format_back_unchanged(string text, long job, string suffix)
    {
        var name = RunnerName.TryParse(text);

        Assert.Equal(new RunnerName(new JobId(job), suffix), name);
        Assert.Equal(text, name!.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("blip-")]
    [InlineData("blip-x-1")]
    [InlineData("blip--1")]
    [InlineData("blip-+42-a")]
    [InlineData("blip- 42-a")]
    [InlineData("blip-42-")]
    [InlineData("Blip-42-a")]
    [InlineData("other-42-1")]
    [InlineData("someone-elses-runner")]
    [InlineData("build-box-1")]
    public void Foreign_names_are_not_ours(string? text)
    {
        Assert.Null(RunnerName.TryParse(text));
        Assert.Null(RunnerName.JobOf(text));
    }
}
