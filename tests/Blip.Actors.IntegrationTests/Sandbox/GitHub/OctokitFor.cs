using Blip.Sandbox.GitHub;
using Octokit;
using Octokit.Internal;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>Octokit pointed at the emulator the way production points it at GitHub (Connection at the root).</summary>
internal static class OctokitFor
{
    public static GitHubClient Token(GitHubEmulator emulator, string token, AuthenticationType type = AuthenticationType.Oauth) =>
        new(new Connection(
            new ProductHeaderValue("blip-tests"),
            emulator.Url,
            new InMemoryCredentialStore(new Credentials(token, type))));

    public static (GitHubClient Client, string Token) FullAccess(GitHubEmulator emulator, params string[] repos)
    {
        var token = emulator.CreateToken(new CreateTokenRequest(repos, Actions: "read", Administration: "write"));
        return (Token(emulator, token), token);
    }

    /// <summary>generate-jitconfig is not in Octokit: production posts it through the connection, so do we.</summary>
    public static Task<IApiResponse<JitConfigResponse>> GenerateJitConfigAsync(GitHubClient client, string repo, string name, params string[] labels) =>
        client.Connection.Post<JitConfigResponse>(
            new Uri($"repos/{repo}/actions/runners/generate-jitconfig", UriKind.Relative),
            new JitConfigRequest { Name = name, RunnerGroupId = 1, Labels = labels, WorkFolder = "_work" },
            "application/vnd.github+json",
            "application/json");
}

public sealed class JitConfigRequest
{
    public string Name { get; set; } = "";
    public long RunnerGroupId { get; set; }
    public IReadOnlyList<string> Labels { get; set; } = [];
    public string WorkFolder { get; set; } = "";
}

public sealed class JitConfigResponse
{
    public Runner Runner { get; set; } = null!;
    public string EncodedJitConfig { get; set; } = "";
}
