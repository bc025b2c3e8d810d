using Blip.Actors.GitHub;

namespace Blip.Actors.Tests.GitHub;

public sealed class ReplyProjectionTests
{
    private sealed class Page
    {
        public int TotalCount { get; set; }
        public IReadOnlyList<Item>? WorkflowRuns { get; set; }
    }

    private sealed class Item
    {
        public long Id { get; set; }
        public IReadOnlyList<string>? Labels { get; set; }
        public DateTimeOffset? UpdatedAt { get; set; }
    }

    [Theory]
    [InlineData("TotalCount", "total_count")]
    [InlineData("RunAttempt", "run_attempt")]
    [InlineData("Id", "id")]
    [InlineData("WorkflowRuns", "workflow_runs")]
    public void Property_names_map_to_snake_case_as_octokit_reads_them(string property, string json) =>
        Assert.Equal(json, ReplyProjection.JsonName(property));

    [Fact]
    public void Only_declared_fields_are_kept_into_lists_of_objects_and_values_stay_as_sent()
    {
        const string body = """
            {"total_count":2,"extra":{"a":1},"workflow_runs":[
              {"id":1,"labels":["x","y"],"updated_at":"2026-12-02T10:00:00Z","actor":{"login":"octocat"}},
              {"id":2,"labels":[],"updated_at":null,"head_commit":{"message":"m"}}]}
            """;

        Assert.Equal(
            """{"total_count":2,"workflow_runs":[{"id":1,"labels":["x","y"],"updated_at":"2026-12-02T10:00:00Z"},{"id":2,"labels":[],"updated_at":null}]}""",
            ReplyProjection.Project(body, typeof(Page)));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void A_body_that_is_not_a_json_object_is_not_projected(string body) =>
        Assert.Null(ReplyProjection.Project(body, typeof(Page)));
}
