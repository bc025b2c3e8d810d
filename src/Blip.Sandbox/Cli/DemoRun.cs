using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Actors.Runners;
using Blip.Sandbox.GitHub;
using k8s;
using Spectre.Console;

namespace Blip.Sandbox.Cli;

/// <summary>
/// The demo: queues jobs across the repos (about one in five with labels no Blip runner has, which must
/// stay queued), shows them flow — job, repo, state, runner, VM, pickup latency — and sums up once every
/// matching job is completed. On a terminal the table redraws in place every second (Spectre.Console's live
/// display); otherwise (a log, a pipe, CI) each change of a job is one line.
/// </summary>
public sealed class DemoRun
{
    public static readonly IReadOnlyList<string> RunnerLabels = ["self-hosted", "blip"];
    private static readonly IReadOnlyList<string> NonMatchingLabels = ["self-hosted", "gpu"];
    private const string RunnerJobIdAnnotation = "blip.io/runner-job-id";
    private const string SessionAnnotation = "blip.io/session-id";

    private static readonly string[] Columns = ["JOB", "REPO", "LABELS", "STATE", "RUNNER", "VM", "PICKUP"];

    private readonly SandboxWorld _world;
    private readonly TextWriter _out;
    private readonly IAnsiConsole? _terminal;
    private readonly List<DemoJob> _jobs = [];
    private readonly Dictionary<long, string> _vmByRunnerJob = [];
    private readonly Dictionary<string, string> _vmByRunner = [];
    private readonly Dictionary<long, string> _linePrinted = [];
    private IReadOnlyList<SandboxJob> _seen = [];

    /// <param name="terminal">The console to redraw the table on in place; null prints a line per change to <paramref name="output"/>.</param>
    public DemoRun(SandboxWorld world, TextWriter output, IAnsiConsole? terminal)
    {
        _world = world;
        _out = output;
        _terminal = terminal;
    }

    /// <summary>Standard output when it is a terminal that understands cursor movement, else null.</summary>
    public static IAnsiConsole? Terminal() =>
        AnsiConsole.Console is { Profile: { Out.IsTerminal: true, Capabilities.Ansi: true } } console ? console : null;

    private sealed record DemoJob(long Id, string Repo, IReadOnlyList<string> Labels, int DurationSeconds)
    {
        public bool Matches => Labels.All(l => RunnerLabels.Contains(l, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Queues the jobs, shows them until every matching one is completed, then prints the summary
    /// line. Returns early (after printing what it has) when <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(int jobs, IReadOnlyList<string> repos, CancellationToken ct)
    {
        var queueing = QueueAsync(jobs, repos, ct);
        try
        {
            if (_terminal is not null)
            {
                await _terminal.Live(JobTable([])).StartAsync(live => FollowAsync(queueing, seen =>
                {
                    live.UpdateTarget(JobTable(seen));
                    live.Refresh();
                }, ct));
            }
            else
            {
                await FollowAsync(queueing, PrintChanges, ct);
            }

            await queueing;
            await PrintSummaryAsync(_seen, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _out.WriteLine($"demo interrupted: {_seen.Count(j => j.Status == "completed" && Find(j.JobId)?.Matches == true)}/{_jobs.Count(j => j.Matches)} matching jobs completed");
        }
    }

    /// <summary>Looks every second and shows what it saw, until every matching job is completed.</summary>
    private async Task FollowAsync(Task queueing, Action<IReadOnlyList<SandboxJob>> show, CancellationToken ct)
    {
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            _seen = await SnapshotAsync(ct);
            show(_seen);
            if (queueing.IsCompleted && AllMatchingCompleted(_seen))
            {
                return;
            }
        }
    }

    private async Task QueueAsync(int count, IReadOnlyList<string> repos, CancellationToken ct)
    {
        for (var i = 0; i < count; i++)
        {
            var repo = repos[i % repos.Count];
            var labels = i % 5 == 2 ? NonMatchingLabels : RunnerLabels;
            var duration = 2 + (i * 3 % 5);
            var queued = await _world.GitHubAdmin.QueueJobAsync(new QueueJobRequest(repo, labels, duration, Name: $"demo-{i + 1}"), ct);
            lock (_jobs)
            {
                _jobs.Add(new DemoJob(queued.JobId, repo, labels, duration));
            }
            // Spread over a few seconds, as pushes arrive.
            await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
        }
    }

    private DemoJob? Find(long jobId)
    {
        lock (_jobs)
        {
            return _jobs.FirstOrDefault(j => j.Id == jobId);
        }
    }

    private bool AllMatchingCompleted(IReadOnlyList<SandboxJob> seen)
    {
        List<DemoJob> matching;
        lock (_jobs)
        {
            matching = _jobs.Where(j => j.Matches).ToList();
        }

        return matching.All(m => seen.Any(s => s.JobId == m.Id && s.Status == "completed"));
    }

    private async Task<IReadOnlyList<SandboxJob>> SnapshotAsync(CancellationToken ct)
    {
        HashSet<long> ids;
        lock (_jobs)
        {
            ids = _jobs.Select(j => j.Id).ToHashSet();
        }

        var jobs = (await _world.GitHubAdmin.ListJobsAsync(ct: ct)).Where(j => ids.Contains(j.JobId)).OrderBy(j => j.JobId).ToList();
        // A VM is released (and replaced) once its job is done: remember which VM served which runner.
        foreach (var vm in await ListVmsAsync(ct))
        {
            var annotations = vm["metadata"]?["annotations"];
            if (annotations?[RunnerJobIdAnnotation]?.GetValue<string>() is { } jobId && long.TryParse(jobId, CultureInfo.InvariantCulture, out var id))
            {
                _vmByRunnerJob[id] = vm["metadata"]!["name"]!.GetValue<string>();
            }
        }

        // A job's VM can change (its runner took another job; it claims again): pin each runner to the VM
        // its job had when the runner was first seen.
        foreach (var runner in jobs.Select(j => j.RunnerName).OfType<string>())
        {
            if (!_vmByRunner.ContainsKey(runner) && RunnerJobId(runner) is { } id && _vmByRunnerJob.TryGetValue(id, out var vmName))
            {
                _vmByRunner[runner] = vmName;
            }
        }

        return jobs;
    }

    private async Task<IReadOnlyList<JsonNode>> ListVmsAsync(CancellationToken ct)
    {
        var raw = await _world.KubeAdmin.CustomObjects.ListNamespacedCustomObjectAsync("kubevirt.io", "v1", _world.Namespace, "virtualmachines", cancellationToken: ct);
        var json = JsonNode.Parse(((JsonElement)raw).GetRawText());
        return json?["items"]?.AsArray().OfType<JsonNode>().ToList() ?? [];
    }

    /// <summary>The job a runner named <c>blip-&lt;jobId&gt;-…</c> was made for: its VM carries that job id.</summary>
    private static long? RunnerJobId(string runnerName) => RunnerName.JobOf(runnerName);

    private string? VmOf(string? runnerName) => runnerName is null ? null : _vmByRunner.GetValueOrDefault(runnerName);

    private string[] Cells(SandboxJob job) =>
    [
        job.JobId.ToString(CultureInfo.InvariantCulture),
        job.Repo,
        string.Join(',', job.Labels),
        job.Status,
        job.RunnerName ?? "-",
        VmOf(job.RunnerName) ?? "-",
        job.StartedAt is { } started ? string.Create(CultureInfo.InvariantCulture, $"{(started - job.QueuedAt).TotalSeconds:F1} s") : "-",
    ];

    private Table JobTable(IReadOnlyList<SandboxJob> seen)
    {
        // One space between columns (not Spectre's two): the table fits a plain 80-column terminal until runners appear.
        var table = new Table().Border(TableBorder.Simple).AddColumns(Columns.Select(c => new TableColumn(c).Padding(0, 0, 1, 0)).ToArray());
        foreach (var job in seen)
        {
            // Text, not markup: a name with brackets is shown as it is.
            table.AddRow(Cells(job).Select(c => new Text(c)));
        }

        return table;
    }

    /// <summary>A line for each job whose row changed since it was last printed.</summary>
    private void PrintChanges(IReadOnlyList<SandboxJob> seen)
    {
        foreach (var job in seen)
        {
            var cells = Cells(job);
            var line = string.Join(' ', Columns.Select((c, i) => $"{c.ToLowerInvariant()} {cells[i]}"));
            if (_linePrinted.GetValueOrDefault(job.JobId) != line)
            {
                _linePrinted[job.JobId] = line;
                _out.WriteLine($"{DateTime.UtcNow:HH:mm:ss}Z {line}");
            }
        }

        _out.Flush();
    }

    private async Task PrintSummaryAsync(IReadOnlyList<SandboxJob> seen, CancellationToken ct)
    {
        List<DemoJob> demo;
        lock (_jobs)
        {
            demo = [.. _jobs];
        }

        var matching = demo.Where(j => j.Matches).Select(j => j.Id).ToHashSet();
        var completed = seen.Where(j => matching.Contains(j.JobId) && j.Status == "completed").ToList();
        var nonMatchingQueued = seen.Count(j => !matching.Contains(j.JobId) && j.Status == "queued");
        var nonMatching = demo.Count - matching.Count;
        var latencies = completed.Where(j => j.StartedAt is not null).Select(j => (j.StartedAt!.Value - j.QueuedAt).TotalSeconds).Order().ToList();

        // The controller releases a VM shortly after its job ends: give it a few seconds.
        var claimed = await ClaimedVmCountAsync(ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (claimed > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            claimed = await ClaimedVmCountAsync(ct);
        }

        var p50 = latencies.Count == 0 ? "-" : $"{latencies[(latencies.Count - 1) / 2]:F1} s";
        var max = latencies.Count == 0 ? "-" : $"{latencies[^1]:F1} s";
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"summary: {completed.Count}/{matching.Count} matching jobs completed, {nonMatchingQueued}/{nonMatching} non-matching left queued (expected: no runner has their labels), pickup latency p50 {p50}, max {max}, {claimed} VMs left claimed"));
        _out.Flush();
    }

    private async Task<int> ClaimedVmCountAsync(CancellationToken ct) =>
        (await ListVmsAsync(ct)).Count(vm =>
            vm["metadata"]?["annotations"]?[SessionAnnotation]?.GetValue<string>() is { } s && s.StartsWith("actions-", StringComparison.Ordinal));
}
