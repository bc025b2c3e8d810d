using System.Globalization;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.GitHub;

/// <summary>GitHub's REST shapes (snake_case) for the objects the emulator serves.</summary>
internal static class GitHubJson
{
    public const string DocsUrl = "https://docs.github.com/rest";

    public static string Time(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static JsonNode? Time(DateTimeOffset? t) => t is { } v ? Time(v) : null;

    public static JsonObject Error(string message, int status) => new()
    {
        ["message"] = message,
        ["documentation_url"] = DocsUrl,
        ["status"] = status.ToString(CultureInfo.InvariantCulture),
    };

    public static JsonObject ValidationFailed(string resource, string field, string code, string message) => new()
    {
        ["message"] = "Validation Failed",
        ["errors"] = new JsonArray(new JsonObject
        {
            ["resource"] = resource,
            ["field"] = field,
            ["code"] = code,
            ["message"] = message,
        }),
        ["documentation_url"] = DocsUrl,
        ["status"] = "422",
    };

    /// <summary>A generate-jitconfig 422 (GitHub's <c>validation-error-simple</c>: its errors are plain strings).</summary>
    public static JsonObject ValidationFailedSimple(string error) => new()
    {
        ["message"] = "Validation Failed",
        ["errors"] = new JsonArray(error),
        ["documentation_url"] = DocsUrl,
        ["status"] = "422",
    };

    /// <summary>The repository as GitHub sends it in runs and webhook deliveries: every field its published webhook schema
    /// requires (REST's minimal-repository asks for the same URLs).</summary>
    public static JsonObject Repository(EmulatedRepo repo, string api)
    {
        var url = $"{api}/repos/{repo.FullName}";
        var html = $"https://github.com/{repo.FullName}";
        var created = Time(RepoCreatedAt);
        var body = new JsonObject
        {
            ["id"] = repo.Id,
            ["node_id"] = $"R_{repo.Id}",
            ["name"] = repo.Name,
            ["full_name"] = repo.FullName,
            ["private"] = true,
            ["owner"] = User(repo.Owner, "Organization", api),
            ["html_url"] = html,
            ["description"] = null,
            ["fork"] = false,
            ["url"] = url,
        };
        foreach (var (field, path) in RepoUrls)
        {
            body[field] = url + path;
        }

        body["created_at"] = created;
        body["updated_at"] = created;
        body["pushed_at"] = created;
        body["git_url"] = $"git://github.com/{repo.FullName}.git";
        body["ssh_url"] = $"git@github.com:{repo.FullName}.git";
        body["clone_url"] = $"{html}.git";
        body["svn_url"] = html;
        body["homepage"] = null;
        body["size"] = 0;
        body["stargazers_count"] = 0;
        body["watchers_count"] = 0;
        body["language"] = null;
        body["has_issues"] = true;
        body["has_projects"] = true;
        body["has_downloads"] = true;
        body["has_wiki"] = true;
        body["has_pages"] = false;
        body["forks_count"] = 0;
        body["mirror_url"] = null;
        body["archived"] = false;
        body["open_issues_count"] = 0;
        body["license"] = null;
        body["forks"] = 0;
        body["open_issues"] = 0;
        body["watchers"] = 0;
        body["default_branch"] = "main";
        body["is_template"] = false;
        body["web_commit_signoff_required"] = false;
        body["topics"] = new JsonArray();
        body["visibility"] = "private";
        body["custom_properties"] = new JsonObject();
        return body;
    }

    private static readonly DateTimeOffset RepoCreatedAt = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly (string Field, string Path)[] RepoUrls =
    [
        ("forks_url", "/forks"), ("keys_url", "/keys{/key_id}"), ("collaborators_url", "/collaborators{/collaborator}"),
        ("teams_url", "/teams"), ("hooks_url", "/hooks"), ("issue_events_url", "/issues/events{/number}"), ("events_url", "/events"),
        ("assignees_url", "/assignees{/user}"), ("branches_url", "/branches{/branch}"), ("tags_url", "/tags"),
        ("blobs_url", "/git/blobs{/sha}"), ("git_tags_url", "/git/tags{/sha}"), ("git_refs_url", "/git/refs{/sha}"),
        ("trees_url", "/git/trees{/sha}"), ("statuses_url", "/statuses/{sha}"), ("languages_url", "/languages"),
        ("stargazers_url", "/stargazers"), ("contributors_url", "/contributors"), ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"), ("commits_url", "/commits{/sha}"), ("git_commits_url", "/git/commits{/sha}"),
        ("comments_url", "/comments{/number}"), ("issue_comment_url", "/issues/comments{/number}"), ("contents_url", "/contents/{+path}"),
        ("compare_url", "/compare/{base}...{head}"), ("merges_url", "/merges"), ("archive_url", "/{archive_format}{/ref}"),
        ("downloads_url", "/downloads"), ("issues_url", "/issues{/number}"), ("pulls_url", "/pulls{/number}"),
        ("milestones_url", "/milestones{/number}"), ("notifications_url", "/notifications{?since,all,participating}"),
        ("labels_url", "/labels{/name}"), ("releases_url", "/releases{/id}"), ("deployments_url", "/deployments"),
    ];

    /// <summary>A simple-user as GitHub sends it for owners, actors and senders.</summary>
    public static JsonObject User(string login, string type, string api)
    {
        var url = $"{api}/users/{login}";
        return new JsonObject
        {
            ["login"] = login,
            ["id"] = OwnerId(login),
            ["node_id"] = $"U_{OwnerId(login)}",
            ["avatar_url"] = $"https://avatars.githubusercontent.com/u/{OwnerId(login)}?v=4",
            ["gravatar_id"] = "",
            ["url"] = url,
            ["html_url"] = $"https://github.com/{login}",
            ["followers_url"] = $"{url}/followers",
            ["following_url"] = $"{url}/following{{/other_user}}",
            ["gists_url"] = $"{url}/gists{{/gist_id}}",
            ["starred_url"] = $"{url}/starred{{/owner}}{{/repo}}",
            ["subscriptions_url"] = $"{url}/subscriptions",
            ["organizations_url"] = $"{url}/orgs",
            ["repos_url"] = $"{url}/repos",
            ["events_url"] = $"{url}/events{{/privacy}}",
            ["received_events_url"] = $"{url}/received_events",
            ["type"] = type,
            ["site_admin"] = false,
        };
    }

    /// <summary>A stable id per owner login (string.GetHashCode is randomized per process).</summary>
    private static long OwnerId(string login)
    {
        ulong hash = 14695981039346656037;
        foreach (var c in login.ToLowerInvariant())
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return (long)(hash % 90_000_000) + 10_000_000;
    }

    public static JsonObject Run(EmulatedRun run, string api)
    {
        var repoUrl = $"{api}/repos/{run.Repo.FullName}";
        var sha = run.Id.ToString("x40", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = run.Id,
            ["name"] = "CI",
            ["node_id"] = $"WFR_{run.Id}",
            ["head_branch"] = "main",
            ["head_sha"] = sha,
            ["path"] = ".github/workflows/ci.yml",
            ["display_title"] = $"CI #{run.RunNumber}",
            ["run_number"] = run.RunNumber,
            ["run_attempt"] = 1,
            ["event"] = "push",
            ["status"] = run.Status,
            ["conclusion"] = run.Conclusion,
            ["workflow_id"] = 1_000_001,
            ["check_suite_id"] = run.Id + 1_000_000_000,
            ["check_suite_node_id"] = $"CS_{run.Id}",
            ["url"] = $"{repoUrl}/actions/runs/{run.Id}",
            ["html_url"] = $"https://github.com/{run.Repo.FullName}/actions/runs/{run.Id}",
            ["pull_requests"] = new JsonArray(),
            ["created_at"] = Time(run.CreatedAt),
            ["updated_at"] = Time(run.UpdatedAt),
            ["run_started_at"] = Time(run.StartedAt ?? run.CreatedAt),
            ["jobs_url"] = $"{repoUrl}/actions/runs/{run.Id}/jobs",
            ["logs_url"] = $"{repoUrl}/actions/runs/{run.Id}/logs",
            ["check_suite_url"] = $"{repoUrl}/check-suites/{run.Id + 1_000_000_000}",
            ["artifacts_url"] = $"{repoUrl}/actions/runs/{run.Id}/artifacts",
            ["cancel_url"] = $"{repoUrl}/actions/runs/{run.Id}/cancel",
            ["rerun_url"] = $"{repoUrl}/actions/runs/{run.Id}/rerun",
            ["workflow_url"] = $"{repoUrl}/actions/workflows/1000001",
            ["actor"] = User("octocat", "User", api),
            ["triggering_actor"] = User("octocat", "User", api),
            ["head_commit"] = new JsonObject
            {
                ["id"] = sha,
                ["tree_id"] = sha,
                ["message"] = "demo",
                ["timestamp"] = Time(run.CreatedAt),
                ["author"] = new JsonObject { ["name"] = "Octo Cat", ["email"] = "octocat@example.com" },
                ["committer"] = new JsonObject { ["name"] = "Octo Cat", ["email"] = "octocat@example.com" },
            },
            ["repository"] = Repository(run.Repo, api),
            ["head_repository"] = Repository(run.Repo, api),
        };
    }

    public static JsonObject Job(EmulatedJob job, string api)
    {
        var repoUrl = $"{api}/repos/{job.Run.Repo.FullName}";
        var labels = new JsonArray();
        foreach (var label in job.Labels)
        {
            labels.Add(label);
        }

        return new JsonObject
        {
            ["id"] = job.Id,
            ["run_id"] = job.Run.Id,
            ["workflow_name"] = "CI",
            ["head_branch"] = "main",
            ["run_url"] = $"{repoUrl}/actions/runs/{job.Run.Id}",
            ["run_attempt"] = 1,
            ["node_id"] = $"CR_{job.Id}",
            ["head_sha"] = job.Run.Id.ToString("x40", CultureInfo.InvariantCulture),
            ["url"] = $"{repoUrl}/actions/jobs/{job.Id}",
            ["html_url"] = $"https://github.com/{job.Run.Repo.FullName}/actions/runs/{job.Run.Id}/job/{job.Id}",
            ["status"] = job.Status,
            ["conclusion"] = job.Conclusion,
            ["created_at"] = Time(job.CreatedAt),
            // GitHub reports a queued job's started_at as its creation time.
            ["started_at"] = Time(job.StartedAt ?? job.CreatedAt),
            ["completed_at"] = Time(job.CompletedAt),
            ["name"] = job.Name,
            ["steps"] = new JsonArray(),
            ["check_run_url"] = $"{repoUrl}/check-runs/{job.Id}",
            ["labels"] = labels,
            ["runner_id"] = job.RunnerId,
            ["runner_name"] = job.RunnerName,
            ["runner_group_id"] = job.RunnerId is null ? null : 1,
            ["runner_group_name"] = job.RunnerId is null ? null : "Default",
        };
    }

    public static JsonObject Runner(EmulatedRunner runner)
    {
        var labels = new JsonArray();
        var labelId = 1;
        foreach (var label in runner.Labels)
        {
            labels.Add(new JsonObject
            {
                ["id"] = labelId++,
                ["name"] = label,
                ["type"] = string.Equals(label, "self-hosted", StringComparison.OrdinalIgnoreCase) ? "read-only" : "custom",
            });
        }
        return new JsonObject
        {
            ["id"] = runner.Id,
            ["name"] = runner.Name,
            ["os"] = "linux",
            ["status"] = runner.Online ? "online" : "offline",
            ["busy"] = runner.Busy,
            ["ephemeral"] = true,
            ["runner_group_id"] = 1,
            ["labels"] = labels,
        };
    }

    public static JsonObject RateLimits(RateLimitSnapshot core)
    {
        JsonObject Entry(int limit, int remaining, int used, long reset, string resource) => new()
        {
            ["limit"] = limit,
            ["used"] = used,
            ["remaining"] = remaining,
            ["reset"] = reset,
            ["resource"] = resource,
        };
        var reset = core.ResetEpochSeconds;
        return new JsonObject
        {
            ["resources"] = new JsonObject
            {
                ["core"] = Entry(core.Limit, core.Remaining, core.Used, reset, "core"),
                ["search"] = Entry(30, 30, 0, reset, "search"),
                ["graphql"] = Entry(5000, 5000, 0, reset, "graphql"),
            },
            ["rate"] = Entry(core.Limit, core.Remaining, core.Used, reset, "core"),
        };
    }

    public static JsonObject WebhookPayload(WorkflowJobEvent e, string api)
    {
        var job = Job(e.Job, api);
        return new JsonObject
        {
            ["action"] = e.Action,
            ["workflow_job"] = job,
            ["repository"] = Repository(e.Job.Run.Repo, api),
            ["sender"] = User("octocat", "User", api),
        };
    }

    /// <summary>A minimal delivery of another event: <c>ping</c> (hook id and zen), anything else with the repository and sender.</summary>
    public static JsonObject OtherEvent(string eventName, EmulatedRepo? repo, string api)
    {
        var body = eventName == "ping"
            ? new JsonObject { ["zen"] = "Design for failure.", ["hook_id"] = 1, ["hook"] = new JsonObject { ["id"] = 1, ["type"] = "Repository", ["events"] = new JsonArray("workflow_job") } }
            : new JsonObject();
        if (repo is not null)
        {
            body["repository"] = Repository(repo, api);
        }

        body["sender"] = User("octocat", "User", api);
        return body;
    }
}
