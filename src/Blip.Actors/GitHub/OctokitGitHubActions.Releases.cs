using System.Globalization;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Microsoft.Extensions.Logging;

namespace Blip.Actors.GitHub;

/// <summary>The releases of <c>actions/runner</c>, for the runner release watch (<see cref="RunnerReleaseWatch"/>).</summary>
public sealed partial class OctokitGitHubActions
{
    /// <summary>The public repo of the runner. Its releases are public data: read with the PAT when there is one; with a
    /// GitHub App (an installation token reaches only the repos the App is installed on) or no credential yet, without
    /// credentials, through the same base URL, trust and handlers.</summary>
    public static readonly RepoName RunnerRepo = new("actions", "runner");

    /// <summary>Releases read per check: the window that matters is the last 30 days, a few releases.</summary>
    public const int ReleasesRead = 10;

    public async Task<IReadOnlyList<RunnerRelease>> ListRunnerReleasesAsync(CancellationToken ct)
    {
        var uri = new Uri($"repos/{RunnerRepo.Owner}/{RunnerRepo.Name}/releases", UriKind.Relative);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal) { ["per_page"] = ReleasesRead.ToString(CultureInfo.InvariantCulture) };
        var releases = await Call("list runner releases", RunnerRepo, GitHubPriority.Discovery,
            async c => (await c.Connection.Get<List<ReleaseItem>>(uri, parameters).ConfigureAwait(false)).Body).ConfigureAwait(false);
        var result = new List<RunnerRelease>(releases?.Count ?? 0);
        foreach (var release in releases ?? [])
        {
            if (string.IsNullOrEmpty(release.TagName) || release.PublishedAt is not { } published)
            {
                // A draft has no published_at yet: nothing to say.
                if (!release.Draft && _reported.First($"runner release {release.TagName} incomplete"))
                {
                    _log.LogWarning("actions/runner: GitHub listed a release without {Missing} (tag '{Tag}'); ignored",
                        string.IsNullOrEmpty(release.TagName) ? "a tag" : "published_at", release.TagName);
                }

                continue;
            }

            result.Add(new RunnerRelease(release.TagName, published, release.Prerelease, release.Draft));
        }

        return result;
    }

    // Its own client and governor, apart from the credentials in use: its budget (GitHub's 60 an hour per address) is
    // neither the rate limit reported nor a reason to pace polling.
    private Credential? _anonymous;

    /// <summary>The credential for reading public data without the PAT: none.</summary>
    private Credential Anonymous()
    {
        lock (_gate)
        {
            return _anonymous ??= new Credential(NewClient(() => Octokit.Credentials.Anonymous), new RateLimitGovernor(_clock), "", null, null);
        }
    }

    public sealed class ReleaseItem
    {
        public string? TagName { get; set; }
        public DateTimeOffset? PublishedAt { get; set; }
        public bool Prerelease { get; set; }
        public bool Draft { get; set; }
    }
}
