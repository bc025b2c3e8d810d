using System.Net;
using Blip.Actors.GitHub;
using Blip.Actors.Runners;

namespace Blip.Actors.Tests.GitHub;

public sealed class TransientRetryTests
{
    private static async Task<(int Tries, Exception? Error)> RunAsync(params Exception?[] outcomes)
    {
        var tries = 0;
        try
        {
            await TransientRetry.Create(TimeProvider.System).ExecuteAsync(_ =>
            {
                var outcome = outcomes[Math.Min(tries++, outcomes.Length - 1)];
                return outcome is null ? ValueTask.CompletedTask : ValueTask.FromException(outcome);
            });
            return (tries, null);
        }
        catch (Exception e)
        {
            return (tries, e);
        }
    }

    private static GitHubCallException Status(HttpStatusCode status) => new("list runs", status);

    [Fact]
    public async Task A_5xx_or_a_broken_connection_is_tried_again_until_it_succeeds()
    {
        Assert.Equal((3, (Exception?)null), await RunAsync(Status(HttpStatusCode.BadGateway), new GitHubCallException("list runs", null, inner: new HttpRequestException("reset")), null));
    }

    [Fact]
    public async Task Three_tries_in_all_then_the_last_error_is_the_callers()
    {
        var (tries, error) = await RunAsync(Status(HttpStatusCode.ServiceUnavailable));

        Assert.Equal(TransientRetry.Attempts, tries);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, Assert.IsType<GitHubCallException>(error).Status);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task A_4xx_is_not_tried_again(HttpStatusCode status)
    {
        Assert.Equal(1, (await RunAsync(Status(status))).Tries);
    }

    [Fact]
    public async Task A_rate_limit_is_left_to_the_governor_even_on_a_5xx()
    {
        Assert.Equal(1, (await RunAsync(new GitHubCallException("list runs", HttpStatusCode.InternalServerError) { IsRateLimited = true })).Tries);
    }

    [Theory]
    [InlineData(0, 0.0, 187.5)]
    [InlineData(0, 0.999, 312.375)]
    [InlineData(1, 0.5, 1000)]
    public void The_pauses_are_a_quarter_second_then_one_second_jittered_by_a_quarter(int retry, double jitter, double milliseconds)
    {
        Assert.Equal(milliseconds, TransientRetry.PauseBefore(retry, jitter).TotalMilliseconds, precision: 1);
    }
}
