using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Blip.Actors.IntegrationTests.Inspection;
using Blip.Actors.IntegrationTests.Sandbox.Executable;
using Blip.Sandbox.GitHub;
using k8s;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Blip.Actors.IntegrationTests.Retention;

/// <summary>
/// <c>Blip:JobRetention</c> on the sandbox (<c>--set Blip__JobRetention=…</c>), on each journal: finished jobs leave no row
/// behind once the retention has passed, <c>blipctl jobs list</c> no longer names them, and a late delivery of one of
/// them claims nothing.
/// </summary>
// Beside the other tests (its PostgreSQL case starts a server of its own); never beside the cluster tests, which run alone.
public sealed partial class JournalRetentionTests
{
    private const string Repo = "demo-org/demo-repo";
    private const int Jobs = 3;
    // Longer than a loaded machine may take to first sight a job (webhook or poll): a job first seen a retention or more
    // after it was queued is ignored by design (a CI run at load ~16 with PostgreSQL missed 10 s).
    private static readonly TimeSpan Retention = TimeSpan.FromSeconds(30);

    // Hang guards only: the machine may be loaded by other tests.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(180);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task After_the_retention_finished_jobs_leave_no_row_are_not_listed_and_a_late_delivery_claims_nothing(string store)
    {
        await using var sandbox = SandboxProcess.Start(
            "--store", store, "--webhooks", "--vms", "3", "--jobs", "0", "--duration", "900",
            "--set", $"Blip__JobRetention={Retention:c}");
        await Deadline.UntilAsync(() => sandbox.Stdout.Contains("Stops by itself", StringComparison.Ordinal), Guard, $"sandbox up; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sandbox.StateDir, "sandbox.json")))!;
        var endpoint = manifest["controllers"]![0]!["managementUrl"]!.GetValue<string>();
        var log = manifest["controllers"]![0]!["log"]!.GetValue<string>();
        var journal = Journal.Of(store, sandbox);
        using var gitHub = new GitHubSandboxClient(new Uri(manifest["githubUrl"]!.GetValue<string>()), manifest["githubAdminToken"]!.GetValue<string>());

        var queued = new List<long>();
        for (var i = 0; i < Jobs; i++)
        {
            queued.Add((await gitHub.QueueJobAsync(Repo, ["self-hosted", "blip"], durationSeconds: 1)).JobId);
        }

        var jobs = new List<SandboxJob>();
        foreach (var id in queued)
        {
            var job = await Deadline.UntilAsync(() => gitHub.GetJobAsync(id), j => j?.Status == "completed", Guard, $"job {id} completed");
            Assert.StartsWith("blip-", job!.RunnerName, StringComparison.Ordinal);
            jobs.Add(job);
        }

        // A retention after they finished, each job (done in the journal, so it had rows there) deletes its events, and
        // then no row of it is left.
        foreach (var id in queued)
        {
            await Deadline.UntilAsync(() => Task.FromResult(HasBeenForgotten(log, id)), forgotten => forgotten, Guard, $"job {id}: events deleted, says {log}");
            try
            {
                await Deadline.UntilAsync(() => Task.FromResult(journal.RowsOf(id)), rows => rows == 0, Guard, $"no journal row of job {id} ({store})");
            }
            catch (TimeoutException e)
            {
                var warnings = ReadShared(log).Split('\n').Where(l => l.Contains("WARN", StringComparison.OrdinalIgnoreCase) && l.Contains($"{id}", StringComparison.Ordinal));
                throw new TimeoutException($"{e.Message}; its rows: {journal.Describe(id)}; warnings naming it: {string.Join(" | ", warnings)}", e);
            }
        }

        var listed = await Blipctl.RunAsync("jobs", "list", "--endpoint", endpoint);
        Assert.Equal(0, listed.ExitCode);
        Assert.All(queued, id => Assert.DoesNotContain(id.ToString(CultureInfo.InvariantCulture), listed.Stdout));

        // A late delivery of the first job (a new GUID: not a replay the receiver remembers) meets an empty record.
        var late = jobs[0];
        var jitBefore = (await gitHub.GetSecretsAsync()).JitConfigs.Count;
        var answer = await DeliverQueuedAsync(manifest, late);
        Assert.Equal(HttpStatusCode.OK, answer);
        await Deadline.UntilAsync(() => Task.FromResult(ReadShared(log)), l => l.Contains($"job {late.JobId} ({Repo}): queued at", StringComparison.Ordinal), Guard,
            $"job {late.JobId}: the late delivery named as too old in {log}");

        Assert.Equal(jitBefore, (await gitHub.GetSecretsAsync()).JitConfigs.Count);
        Assert.Empty(await VmsOfJobAsync(manifest, late.JobId));
        Assert.Equal(0, journal.RowsOf(late.JobId));
        Assert.Equal("completed", (await gitHub.GetJobAsync(late.JobId))!.Status);
    }

    private static bool HasBeenForgotten(string log, long id) =>
        ReadShared(log).Contains($"job {id} ({Repo}): finished at", StringComparison.Ordinal);

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static async Task<HttpStatusCode> DeliverQueuedAsync(JsonNode manifest, SandboxJob job)
    {
        var payload = new JsonObject
        {
            ["action"] = "queued",
            ["workflow_job"] = new JsonObject
            {
                ["id"] = job.JobId,
                ["run_id"] = job.RunId,
                ["labels"] = new JsonArray([.. job.Labels.Select(l => JsonValue.Create(l))]),
                ["status"] = "queued",
                ["created_at"] = job.QueuedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            },
            ["repository"] = new JsonObject { ["full_name"] = job.Repo },
        };
        var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
        var secret = manifest["webhookSecret"]!.GetValue<string>();
        using var request = new HttpRequestMessage(HttpMethod.Post, manifest["webhookUrl"]!.GetValue<string>()) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", "workflow_job");
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
        using var http = new HttpClient();
        return (await http.SendAsync(request)).StatusCode;
    }

    private static async Task<IReadOnlyList<string>> VmsOfJobAsync(JsonNode manifest, long jobId)
    {
        using var kube = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(manifest["kubeconfig"]!.GetValue<string>()));
        var list = await kube.CustomObjects.ListNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", "virtualmachines");
        return JsonNode.Parse(((System.Text.Json.JsonElement)list).GetRawText())!["items"]!.AsArray()
            .Where(vm => vm!["metadata"]!["annotations"]?["blip.io/session-id"]?.GetValue<string>() == $"actions-{jobId}")
            .Select(vm => vm!["metadata"]!["name"]!.GetValue<string>())
            .ToList();
    }

    [GeneratedRegex(@"PostgreSQL on 127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex PostgresPort();

    /// <summary>The controller's journal, opened as an operator would: rows of a job in the journal and its tags.</summary>
    private sealed class Journal(Func<DbConnection> open)
    {
        public static Journal Of(string store, SandboxProcess sandbox)
        {
            if (store == "sqlite")
            {
                var file = Path.Combine(sandbox.StateDir, "controller-0", "blip-journal.db");
                return new Journal(() => new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False"));
            }

            var port = int.Parse(PostgresPort().Match(sandbox.Stdout).Groups["port"].Value, CultureInfo.InvariantCulture);
            var connectionString = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = "blip", Pooling = false }.ConnectionString;
            return new Journal(() => new NpgsqlConnection(connectionString));
        }

        /// <summary>For a failure message: each journal row of <c>job-ID</c> (sequence number, deleted, manifest) and how many
        /// tag rows it has.</summary>
        public string Describe(long jobId)
        {
            try
            {
                return DescribeRows(jobId);
            }
            catch (DbException e)
            {
                return $"(not read: {e.Message})";
            }
        }

        private string DescribeRows(long jobId)
        {
            using var connection = open();
            using var command = CommandFor(connection, jobId, "SELECT sequence_number, deleted, manifest FROM journal WHERE persistence_id = @pid ORDER BY sequence_number");
            var rows = new List<string>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add($"#{reader.GetValue(0)} deleted={reader.GetValue(1)} {reader.GetValue(2)}");
                }
            }

            command.CommandText = "SELECT COUNT(*) FROM tags WHERE persistence_id = @pid";
            return $"journal [{string.Join(", ", rows)}], tags {command.ExecuteScalar()}";
        }

        /// <summary>Rows of <c>job-ID</c> in the journal (deleted-marked ones too) and in the tag table.</summary>
        public long RowsOf(long jobId)
        {
            using var connection = open();
            using var command = CommandFor(connection, jobId,
                "SELECT (SELECT COUNT(*) FROM journal WHERE persistence_id = @pid) + (SELECT COUNT(*) FROM tags WHERE persistence_id = @pid)");
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        private static DbCommand CommandFor(DbConnection connection, long jobId, string sql)
        {
            connection.Open();
            var command = connection.CreateCommand();
            command.CommandText = sql;
            var pid = command.CreateParameter();
            pid.ParameterName = "@pid";
            pid.Value = $"job-{jobId}";
            command.Parameters.Add(pid);
            return command;
        }
    }
}
