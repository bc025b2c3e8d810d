using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class GitHubRepliesTests
{
    private static readonly string[] Labels = ["self-hosted", "blip"];

    [Fact]
    public void A_queued_job_with_id_and_labels_is_queued() =>
        Assert.Equal(JobReading.Queued, GitHubReplies.ReadJob(17, "queued", Labels));

    [Theory]
    [InlineData("in_progress")]
    [InlineData("completed")]
    [InlineData("waiting")]
    [InlineData("requested")]
    [InlineData("pending")]
    public void Statuses_github_documents_are_known_and_not_queued(string status) =>
        Assert.Equal(JobReading.NotQueued, GitHubReplies.ReadJob(17, status, Labels));

    [Theory]
    [InlineData("waiting_for_moon")]
    [InlineData("Queued")]
    public void A_status_never_heard_of_is_unknown_and_never_queued(string status) =>
        Assert.Equal(JobReading.UnknownStatus, GitHubReplies.ReadJob(17, status, Labels));

    [Fact]
    public void Missing_fields_are_named_id_first_then_status_then_labels()
    {
        Assert.Equal(JobReading.MissingId, GitHubReplies.ReadJob(0, null, null));
        Assert.Equal(JobReading.MissingStatus, GitHubReplies.ReadJob(17, null, Labels));
        Assert.Equal(JobReading.MissingStatus, GitHubReplies.ReadJob(17, "", Labels));
        Assert.Equal(JobReading.MissingLabels, GitHubReplies.ReadJob(17, "queued", null));
        Assert.Equal(JobReading.NotQueued, GitHubReplies.ReadJob(17, "completed", null));
    }

    [Fact]
    public void Full_pages_are_followed_until_the_total_is_read() =>
        Assert.Equal(new PageStep(100, More: true, Oversized: false, Capped: false), GitHubReplies.NextPage(100, 2000, held: 0, onPage: 100, totalCount: 150));

    [Fact]
    public void A_full_last_page_asks_for_no_empty_one_after_it() =>
        Assert.Equal(new PageStep(100, More: false, Oversized: false, Capped: false), GitHubReplies.NextPage(100, 2000, held: 100, onPage: 100, totalCount: 200));

    [Fact]
    public void A_short_page_ends_the_listing_even_without_a_total() =>
        Assert.Equal(new PageStep(40, More: false, Oversized: false, Capped: false), GitHubReplies.NextPage(100, 2000, held: 100, onPage: 40, totalCount: 0));

    [Fact]
    public void A_page_larger_than_asked_is_kept_up_to_the_cap_and_ends_the_listing()
    {
        Assert.Equal(new PageStep(2000, More: false, Oversized: true, Capped: true), GitHubReplies.NextPage(100, 2000, held: 0, onPage: 5000, totalCount: 1));
        Assert.Equal(new PageStep(150, More: false, Oversized: true, Capped: false), GitHubReplies.NextPage(100, 2000, held: 0, onPage: 150, totalCount: 150));
    }

    [Fact]
    public void A_listing_longer_than_the_cap_stops_at_the_cap()
    {
        Assert.Equal(new PageStep(100, More: false, Oversized: false, Capped: true), GitHubReplies.NextPage(100, 2000, held: 1900, onPage: 100, totalCount: 5000));
        Assert.Equal(new PageStep(0, More: false, Oversized: false, Capped: true), GitHubReplies.NextPage(100, 2000, held: 2000, onPage: 100, totalCount: 5000));
    }

    [Theory]
    [InlineData("The endpoint has been spammed. Please wait a while before trying again.")]
    [InlineData("Validation failed, or the endpoint has been spammed.")]
    [InlineData("Too many requests: try again later")]
    public void A_422_saying_the_endpoint_has_been_spammed_is_told_apart(string message) =>
        Assert.True(GitHubReplies.SaysSpammed(message));

    [Theory]
    [InlineData("Validation Failed")]
    [InlineData("labels must hold 1 to 100 non-empty labels")]
    [InlineData("")]
    [InlineData(null)]
    public void A_422_validation_error_is_not_spam(string? message) =>
        Assert.False(GitHubReplies.SaysSpammed(message));

    [Fact]
    public void A_spammed_422_is_retried_and_a_validation_422_is_permanent()
    {
        var status = System.Net.HttpStatusCode.UnprocessableEntity;
        Assert.True(new Blip.Actors.Runners.GitHubCallException("generate-jitconfig", status).IsPermanent);
        Assert.False(new Blip.Actors.Runners.GitHubCallException("generate-jitconfig", status) { IsSpammed = true }.IsPermanent);
    }
}
