using Microsoft.Extensions.DependencyInjection;

namespace Blip.Actors.GitHub;

/// <summary>Registers the Octokit adapter (the caller decides what wraps it as <c>IGitHubActions</c>).</summary>
public static class GitHubRegistration
{
    public static IServiceCollection AddGitHub(this IServiceCollection services, GitHubOptions options) =>
        services.AddSingleton(options).AddSingleton<OctokitGitHubActions>();
}
