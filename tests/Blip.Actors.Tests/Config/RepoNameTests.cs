using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Config;

public sealed class RepoNameTests
{
    [Fact]
    public void Names_differing_only_in_case_are_the_same_repo_and_keep_their_spelling()
    {
        var configured = RepoName.Parse("Acme/API");
        var canonical = RepoName.Parse("acme/api");

        Assert.Equal(configured, canonical);
        Assert.Equal(configured.GetHashCode(), canonical.GetHashCode());
        Assert.Contains(canonical, new HashSet<RepoName> { configured });
        Assert.Equal("Acme/API", configured.FullName);
        Assert.NotEqual(configured, RepoName.Parse("acme/apis"));
    }
}
