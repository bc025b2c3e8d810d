using System.Text;
using Blip.Actors.Webhooks;

namespace Blip.Actors.Tests.Webhooks;

public sealed class WebhookDeliveryTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("It's a Secret to Everybody");
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("Hello, World!");

    [Fact]
    public void GitHubs_documented_example_signature_verifies() =>
        // The example from GitHub's "Validating webhook deliveries" page.
        Assert.True(WebhookDelivery.SignatureValid(Body, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", Secret));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha1=757107ea0eb2509fc211221cce984b8a37570b6d")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18")]
    [InlineData("sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData("sha256=757107")]
    public void Missing_or_wrong_signatures_fail(string? header) =>
        Assert.False(WebhookDelivery.SignatureValid(Body, header, Secret));

    [Fact]
    public void A_queued_workflow_job_parses()
    {
        var (evt, error) = WebhookDelivery.Parse("""{"action":"queued","workflow_job":{"id":5,"run_id":7,"labels":["self-hosted","blip"],"runner_name":null},"repository":{"full_name":"org/repo"}}"""u8);

        Assert.Null(error);
        Assert.Equal("queued", evt!.Action);
        Assert.Equal(5, evt.JobId);
        Assert.Equal("org/repo", evt.Repo.FullName);
        Assert.Equal(["self-hosted", "blip"], evt.Labels);
    }

    [Fact]
    public void An_in_progress_workflow_job_parses_with_its_started_at()
    {
        // Shaped as GitHub's published in_progress example (@octokit/webhooks-examples): started_at is when a runner took it.
        var (evt, error) = WebhookDelivery.Parse("""{"action":"in_progress","workflow_job":{"id":5,"run_id":7,"labels":["self-hosted","blip"],"runner_name":"blip-4-ab","status":"in_progress","created_at":"2026-11-30T12:00:00Z","started_at":"2026-11-30T12:00:07+00:00"},"repository":{"full_name":"org/repo"}}"""u8);

        Assert.Null(error);
        Assert.Equal(("in_progress", "blip-4-ab", 4L), (evt!.Action, evt.RunnerName, evt.TriggerJobOfRunner));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 12, 0, 7, TimeSpan.Zero), evt.StartedAt);
    }

    [Theory]
    [InlineData("""{"action":"queued"}""", "not a workflow_job payload")]
    [InlineData("""[1,2]""", "not valid JSON")]
    [InlineData("""{"action":"queued","workflow_job":{"id":1},"repository":{"full_name":"bad"}}""", "'bad'")]
    public void Malformed_payloads_are_refused_with_a_reason(string json, string expected)
    {
        var (evt, error) = WebhookDelivery.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Null(evt);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("blip-12345-abcdef12", 12345L)]
    [InlineData("blip-x-1", null)]
    [InlineData("someone-elses-runner", null)]
    [InlineData(null, null)]
    public void Our_runner_names_map_back_to_their_trigger_job(string? runner, long? expected) =>
        Assert.Equal(expected, new WorkflowJobEvent("completed", 1, 1, new Blip.Actors.Shared.RepoName("o", "r"), [], runner, null).TriggerJobOfRunner);
}
