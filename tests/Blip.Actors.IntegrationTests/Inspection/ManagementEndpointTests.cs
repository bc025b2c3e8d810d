using System.Net;
using System.Text.Json;
using Blip.Actors.IntegrationTests.Harness;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>The management endpoint of a live controller: probes, metrics, and blipctl against it as a process.</summary>
public sealed class ManagementEndpointTests(InspectedWorld fixture) : IClassFixture<InspectedWorld>
{
    [Fact]
    public async Task Live_and_ready_probes_answer_200()
    {
        var live = await fixture.Http.GetAsync(new Uri(fixture.Endpoint, "/healthz/live"));
        var ready = await fixture.Http.GetAsync(new Uri(fixture.Endpoint, "/healthz/ready"));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metrics_parse_as_prometheus_text_and_move_when_a_job_flows()
    {
        var response = await fixture.Http.GetAsync(new Uri(fixture.Endpoint, "/metrics"));
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString());
        var after = await PrometheusText.ParseAsync(await response.Content.ReadAsStringAsync());

        const string completed = "blip_jobs_completed_total{outcome=\"completed\"}";
        Assert.Equal(0, fixture.MetricsBefore.Value(completed));
        Assert.Equal(1, after.Value(completed));
        Assert.Equal(1, after.Value("blip_jobs_seen_total"));
        Assert.Equal(1, after.Value("blip_jobs_provisioned_total"));
        Assert.Equal(1, after.Value("blip_pickup_latency_seconds_count"));
        Assert.Equal(1, after.Value("blip_provisioning_duration_seconds_count"));
        Assert.Equal(1, after.Value("blip_cluster_members"));
        Assert.True(after.Value("blip_ssh_attempts_total") >= 1);
        Assert.True(after.Value("blip_github_rate_limit_remaining") > 0);
        Assert.True(after.Value("blip_github_requests_total{endpoint=\"generate-jitconfig\",status=\"ok\"}") >= 1);
        // Conditional requests: repeated polls of unchanged lists come back 304 (free), the first ones 200.
        Assert.True(after.Value("blip_github_http_responses_total{code=\"200\"}") >= 1);
        Assert.True(after.Value("blip_github_http_responses_total{code=\"304\"}") >= 1);
        Assert.Contains(after.Series, s => s.StartsWith("blip_kubernetes_requests_total{verb=\"PUT\",resource=\"virtualmachines\",status=\"200\"}", StringComparison.Ordinal));
    }

    /// <summary>The names, types and help texts dashboards know (before System.Diagnostics.Metrics and prometheus-net),
    /// read by the Prometheus project's own parser from the live endpoint.</summary>
    [Fact]
    public async Task Metrics_keep_todays_names_and_types_as_a_prometheus_parser_reads_them()
    {
        var page = await fixture.Http.GetStringAsync(new Uri(fixture.Endpoint, "/metrics"));
        var parsed = await PrometheusText.ParseAsync(page);

        (string Name, string Type)[] today =
        [
            ("blip_jobs_seen_total", "counter"), ("blip_jobs_claimed_total", "counter"), ("blip_jobs_provisioned_total", "counter"),
            ("blip_jobs_completed_total", "counter"), ("blip_pickup_latency_seconds", "histogram"), ("blip_provisioning_duration_seconds", "histogram"),
            ("blip_vms_claimed", "gauge"), ("blip_vms_claimable", "gauge"), ("blip_claim_conflicts_total", "counter"),
            ("blip_allocation_failures_total", "counter"), ("blip_github_requests_total", "counter"), ("blip_github_http_responses_total", "counter"),
            ("blip_kubernetes_requests_total", "counter"), ("blip_ssh_attempts_total", "counter"), ("blip_ssh_failures_total", "counter"), ("blip_runner_starts_total", "counter"),
            ("blip_configuration_faults_total", "counter"), ("blip_configuration_faults_active", "gauge"), ("blip_cluster_members", "gauge"),
            ("blip_shard_entities", "gauge"), ("blip_shards", "gauge"), ("blip_runner_registrations_deleted_total", "counter"),
            ("blip_github_run_listings_capped_total", "counter"), ("blip_github_rate_limit", "gauge"), ("blip_github_rate_limit_remaining", "gauge"),
            ("blip_github_rate_limit_reset_timestamp_seconds", "gauge"),
            // Added since (issue 16): a job's time by stage, and the oldest job waiting for a VM.
            ("blip_job_stage_duration_seconds", "histogram"), ("blip_oldest_waiting_job_age_seconds", "gauge"),
            // And the days left to update the runner started last (GitHub's 30-day window after a newer release).
            ("blip_runner_release_days_left", "gauge"),
        ];
        foreach (var (name, type) in today)
        {
            Assert.True(parsed.Types.TryGetValue(name, out var actual), $"{name} missing from /metrics");
            Assert.Equal(type, actual);
            // The parser names a counter's samples x_total whatever the page says: the page itself must declare today's name.
            Assert.Contains($"# TYPE {name} {type}\n", page, StringComparison.Ordinal);
        }

        Assert.Equal("Jobs finished, by outcome.", parsed.Help["blip_jobs_completed_total"]);
        Assert.Equal(today.Select(t => t.Name).Order(StringComparer.Ordinal), parsed.Types.Keys.Order(StringComparer.Ordinal));
        Assert.Contains(parsed.Series, s => s.StartsWith("blip_pickup_latency_seconds_bucket{le=\"+Inf\"}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cluster_show_prints_the_one_member_and_the_count()
    {
        var result = await fixture.CtlAsync("cluster", "show");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^akka\.tcp://blip@127\.0\.0\.1:\d+ \| \[controller\] \| Up \| Reachable$", lines[0]);
        Assert.Equal("Count: 1 nodes", lines[1]);
    }

    [Fact]
    public async Task Config_show_tells_labels_repos_and_that_the_pat_is_present_but_never_the_pat()
    {
        var text = await fixture.CtlAsync("config", "show");
        var json = await fixture.CtlAsync("config", "show", "-o", "json");

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("Labels: self-hosted, blip\n", text.Stdout);
        Assert.Contains("Repos: org/repo\n", text.Stdout);
        Assert.Contains("PAT: present\n", text.Stdout);
        Assert.DoesNotContain(fixture.World.Sandbox.Pat, text.Stdout + json.Stdout);
        Assert.True(JsonDocument.Parse(json.Stdout).RootElement.GetProperty("patPresent").GetBoolean());
    }

    [Fact]
    public async Task Jobs_show_tells_the_finished_jobs_story()
    {
        var result = await fixture.CtlAsync("jobs", "show", fixture.JobId.ToString());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Job: {fixture.JobId}\n", result.Stdout);
        Assert.Contains("Repo: org/repo", result.Stdout);
        Assert.Contains("Outcome: Completed", result.Stdout);
        var history = result.Stdout[result.Stdout.IndexOf("History:", StringComparison.Ordinal)..];
        var order = new[] { "JobSighted", "VmClaimed", "RunnerRegistered", "RunnerStarted", "JobFinished", "VmReleased" }
            .Select(e => history.IndexOf(e + ":", StringComparison.Ordinal)).ToList();
        Assert.All(order, i => Assert.True(i > 0, history));
        Assert.Equal(order.Order(), order);

        var list = await fixture.CtlAsync("jobs", "list", "--state", "completed");
        Assert.Contains(fixture.JobId.ToString(), list.Stdout);
        Assert.Contains("Count: 1 jobs", list.Stdout);
        var missing = await fixture.CtlAsync("jobs", "show", "999999999");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no such job", missing.Stderr);
    }

    [Fact]
    public async Task Jobs_list_pages_through_the_journal_with_a_cursor()
    {
        var first = await fixture.CtlAsync("jobs", "list", "--limit", "1");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains(fixture.JobId.ToString(), first.Stdout);
        var more = System.Text.RegularExpressions.Regex.Match(first.Stdout, @"More: blipctl jobs list --before (\d+)\n");
        Assert.True(more.Success, first.Stdout);

        var next = await fixture.CtlAsync("jobs", "list", "--limit", "1", "--before", more.Groups[1].Value);
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal("no jobs\n", next.Stdout); // the one job was the oldest: nothing before it, and no further cursor
    }

    [Fact]
    public async Task Vms_lists_the_pool()
    {
        var text = await fixture.CtlAsync("vms");
        var json = await fixture.CtlAsync("vms", "-o", "json");

        Assert.True(text.ExitCode == 0, text.ToString());
        var names = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("vms").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToList();
        Assert.Equal(2, names.Count);
        Assert.All(names, n => Assert.Contains(n, text.Stdout));
        Assert.StartsWith("NAME ", text.Stdout);
    }

    [Fact]
    public async Task Every_command_answers_json_with_o_json()
    {
        string[][] commands =
        [
            ["cluster", "show"], ["cluster", "status"], ["cluster", "leader"], ["actor", "hierarchy", "-d", "2"], ["cluster-sharding", "regions"],
            ["cluster-sharding", "region-stats", "-r", "job"], ["cluster-sharding", "shard-stats", "-r", "job"],
            ["cluster-sharding", "locate", "-r", "job", "-i", fixture.JobId.ToString()], ["log", "peek", "-c", "5"], ["jobs", "list"], ["repos"], ["ratelimit"],
        ];
        foreach (var command in commands)
        {
            var result = await fixture.CtlAsync([.. command, "-o", "json"]);

            Assert.True(result.ExitCode == 0, $"{string.Join(' ', command)}: {result}");
            JsonDocument.Parse(result.Stdout);
        }
    }

    [Fact]
    public async Task Pbm_inspection_commands_show_the_node()
    {
        var hierarchy = await fixture.CtlAsync("actor", "hierarchy", "-d", "2");
        var regions = await fixture.CtlAsync("cluster-sharding", "regions");
        var repos = await fixture.CtlAsync("repos");
        var logs = await fixture.CtlAsync("log", "peek", "-c", "500", "-l", "info");

        var paths = hierarchy.Stdout.TrimEnd().Split('\n');
        Assert.Contains("/user/config", paths);
        Assert.Contains("/user/vms", paths);
        Assert.Contains("/system/sharding", paths);
        Assert.Equal(paths.Order(StringComparer.Ordinal), paths);
        Assert.Equal("job\n", regions.Stdout);
        Assert.StartsWith("org/repo\nPoller node: akka.tcp://blip@127.0.0.1:", repos.Stdout);
        Assert.Contains($"job {fixture.JobId}", logs.Stdout);
        Assert.DoesNotContain(" DEBUG ", logs.Stdout);
    }

    [Fact]
    public async Task Cluster_tail_prints_the_member_coming_up_and_stops_after_its_duration()
    {
        var result = await fixture.CtlAsync("cluster", "tail", "--duration", "1");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^\S+Z MemberUp akka\.tcp://blip@127\.0\.0\.1:\d+ Up roles=\[controller\]$", result.Stdout);
    }

    [Fact]
    public async Task An_unreachable_endpoint_exits_3_with_one_line()
    {
        var result = await Blipctl.RunAsync("cluster", "show", "--endpoint", $"http://127.0.0.1:{ControllerHost.FreePort()}");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Single(result.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("blipctl: cannot reach the management endpoint", result.Stderr);
    }
}
