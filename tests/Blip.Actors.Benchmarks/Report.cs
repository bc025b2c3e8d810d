using System.Globalization;
using System.Text;

namespace Blip.Actors.Benchmarks;

/// <summary>The targets of the benchmarks issue, judged on the default profile (the webhook target on the webhooks
/// profile), and <c>report.md</c>.</summary>
public static class Report
{
    public static void JudgeTargets(BenchResults results)
    {
        double? Get(string scenario, string profile, string figure) =>
            results.Scenarios.FirstOrDefault(s => s.Name == scenario)?.Profiles.GetValueOrDefault(profile)?.Figures is { } f && f.TryGetValue(figure, out var v) ? v : null;
        // --quick judges only the invariants: its sizes are too small for the other figures to mean anything.
        void Add(string target, string measured, bool? met, string note = "") => results.Targets.Add(
            results.Quick && !target.StartsWith("invariant", StringComparison.Ordinal)
                ? new TargetResult(target, measured, null, "not judged in --quick")
                : new TargetResult(target, measured, met, note));
        const string notRun = "not run";

        var p50 = Get("pickup", "default", Figure.P50);
        var up50 = Get("pickup", "upstream", Figure.P50);
        Add("pickup p50 ≤ 1/4 of upstream's (polling alone)",
            p50 is null || up50 is null ? notRun : $"{F(p50)} s vs {F(up50)} s (ratio {F(p50 / up50)})",
            p50 is null || up50 is null ? null : p50 <= up50 / 4);
        var hook50 = Get("pickup", Profile.Webhooks.Name, Figure.P50);
        var hook99 = Get("pickup", Profile.Webhooks.Name, Figure.P99);
        // Issue 15's targets (an earlier issue asked for 0.5 s and 1.5 s).
        Add("with webhooks: pickup p50 ≤ 0.3 s, p99 ≤ 1.0 s",
            hook50 is null || hook99 is null ? notRun : $"p50 {F(hook50)} s, p99 {F(hook99)} s (profile {Profile.Webhooks.Name}, {F(Get("pickup", Profile.Webhooks.Name, Figure.Jobs))} jobs)",
            hook50 is null || hook99 is null ? null : hook50 <= 0.3 && hook99 <= 1.0);

        var idle = Get("idle-cost", "default", "github_counted_per_repo_hour");
        var idleUp = Get("idle-cost", "upstream", "github_counted_per_repo_hour");
        Add("idle repo: 0 counted GitHub requests per hour after warm-up (upstream ~360)",
            idle is null ? notRun : $"{F(idle)} per repo-hour (upstream {F(idleUp)})", idle is null ? null : idle == 0);

        var counted = Get("per-job-cost", "default", "github_counted_per_job");
        Add("per job: ≤ 4 counted GitHub requests", counted is null ? notRun : $"{F(counted)} (upstream {F(Get("per-job-cost", "upstream", "github_counted_per_job"))})",
            counted is null ? null : counted <= 4);
        var hooked = Get("per-job-cost", "webhooks", "github_counted_per_job");
        Add("per job with webhooks: ≤ 2 counted GitHub requests", hooked is null ? notRun : F(hooked), hooked is null ? null : hooked <= 2);
        var writes = Get("per-job-cost", "default", "kube_writes_per_job");
        Add("per job: ≤ 4 Kubernetes writes", writes is null ? notRun : F(writes), writes is null ? null : writes <= 4);
        var lists = Get("per-job-cost", "default", "kube_lists_per_job");
        Add("per job: no Kubernetes LIST", lists is null ? notRun : F(lists), lists is null ? null : lists < 0.5,
            "baseline-subtracted: a fraction is a relist that fell into one window, not a per-job list");

        var cpu = Get("burst", "default", "controller_cpu_ms_per_job");
        Add("burst: controller CPU per job reported", cpu is null ? notRun : $"{F(cpu)} ms per job (upstream {F(Get("burst", "upstream", "controller_cpu_ms_per_job"))})", cpu is null ? null : true);
        var rate = Get("burst", "default", "first_wave_runners_started_per_s");
        Add("burst: ≥ 10 jobs/s provisioned while VMs are free", rate is null ? notRun : $"{F(rate)} runners started per s (first wave)",
            rate is null ? null : rate >= 10);

        var capacity = Get("capacity", "default", "runners_started_per_s");
        var capacityUp = Get("capacity", "upstream", "runners_started_per_s");
        Add("capacity: ≥ 15 runners started per s, and ≥ 1.2 × upstream's",
            capacity is null ? notRun : $"{F(capacity)} per s (upstream {F(capacityUp)}; {F(Get("capacity", "default", Figure.Jobs))} jobs sighted by one poll)",
            capacity is null || capacityUp is null ? null : capacity >= 15 && capacity >= 1.2 * capacityUp);

        var tomb = Get("scale", "default", "kib_per_tombstoned_job_upper_bound");
        Add("memory: ≤ 2 KB per tombstoned job", tomb is null ? (results.Quick ? "not measured in --quick" : notRun) : $"≤ {F(tomb)} KiB (upper bound: RSS after passivation)",
            tomb is null ? null : tomb <= 2, "RSS includes memory the GC has freed but not returned; the true figure is at most this");
        var at10k = Get("scale", "default", "rss_at_10k_tracked_mib_extrapolated");
        Add("memory: RSS ≤ 300 MiB with 10k tracked jobs", at10k is null ? notRun : $"{F(at10k)} MiB (extrapolated from {F(Get("scale", "default", "tracked_jobs"))} live job actors; upstream {F(Get("scale", "upstream", "rss_at_10k_tracked_mib_extrapolated"))})",
            at10k is null ? null : at10k <= 300);
        var perJob = Get("scale", "default", "kib_per_tracked_job");
        Add("memory: ≤ 16 KiB per tracked job", perJob is null ? notRun : $"{F(perJob)} KiB (upstream {F(Get("scale", "upstream", "kib_per_tracked_job"))})",
            perJob is null ? null : perJob <= 16);
        var idleRss = Get("scale", "default", "rss_idle_mib");
        Add("memory: idle RSS ≤ 150 MiB", idleRss is null ? notRun : $"{F(idleRss)} MiB (upstream {F(Get("scale", "upstream", "rss_idle_mib"))})",
            idleRss is null ? null : idleRss <= 150);

        // Not growing: over the soak's second half, journal rows rise by at most 5 % of their peak per minute and RSS by at
        // most 1 % of its mean per minute (a sampling wobble, not growth). A fall is no failure: rows follow the job rate
        // times the retention, and the job rate drops when the machine is loaded.
        var rowsSlope = Get("soak", "default", "journal_rows_per_min_second_half");
        var rowsMax = Get("soak", "default", "journal_rows_max");
        Add("soak: journal rows not growing over the second half", rowsSlope is null || rowsMax is null ? notRun : $"{F(rowsSlope)} rows/min (peak {F(rowsMax)} rows)",
            rowsSlope is null || rowsMax is null ? null : rowsSlope.Value <= 0.05 * rowsMax.Value);
        var rssSlope = Get("soak", "default", "rss_mib_per_min_second_half");
        var rssMean = Get("soak", "default", "rss_mean_mib_second_half");
        Add("soak: RSS not growing over the second half", rssSlope is null || rssMean is null ? notRun : $"{F(rssSlope)} MiB/min (mean {F(rssMean)} MiB)",
            rssSlope is null || rssMean is null ? null : rssSlope.Value <= 0.01 * rssMean.Value);

        Add("invariant: 0 duplicates", results.Duplicates.ToString(CultureInfo.InvariantCulture), results.Duplicates == 0);
        Add("invariant: 0 leaked VMs", results.LeakedVms.ToString(CultureInfo.InvariantCulture), results.LeakedVms == 0);
    }

    public static string Markdown(BenchResults results, IReadOnlyList<string> charts)
    {
        var m = results.Machine;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Blip.Actors benchmarks{(results.Quick ? " (--quick: small sizes, timings not meaningful)" : "")}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {m.Cores} cores ({m.Cpu}), {m.MemoryGiB} GiB, {m.Os}, {m.Runtime}; load average {F(m.LoadAverage1mAtStart)} at start; everything co-located (emulators, VMs as sshd, controller).");
        md.AppendLine(CultureInfo.InvariantCulture, $"Commit {m.GitCommit}; run {results.StartedAt:yyyy-MM-dd HH:mm} – {results.FinishedAt:HH:mm} UTC.");
        md.AppendLine();
        foreach (var (name, description) in results.Profiles)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- `{name}`: {description}");
        }

        md.AppendLine();
        md.AppendLine("## Targets (default profile, unless the target names another)");
        md.AppendLine();
        md.AppendLine("| Target | Measured | Met |");
        md.AppendLine("|---|---|---|");
        foreach (var t in results.Targets)
        {
            var met = t.Met switch { true => "met", false => "**missed**", null => "–" };
            md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Target} | {t.Measured}{(t.Note.Length > 0 ? $" ({t.Note})" : "")} | {met} |");
        }

        foreach (var s in results.Scenarios)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## {s.Name}");
            md.AppendLine();
            md.AppendLine(s.Description + ".");
            md.AppendLine(CultureInfo.InvariantCulture, $"Sizes: {string.Join(", ", s.Sizes.Select(kv => $"{kv.Key} {kv.Value}"))}.");
            md.AppendLine();
            // A column per profile; then default ÷ upstream, and every further profile ÷ default.
            var profiles = s.Profiles.Keys.ToList();
            var ratios = new List<(string Of, string To)> { (Profile.Default.Name, Profile.Upstream.Name) };
            ratios.AddRange(profiles.Where(p => p != Profile.Default.Name && p != Profile.Upstream.Name).Select(p => (p, Profile.Default.Name)));
            md.AppendLine(CultureInfo.InvariantCulture, $"| Figure | {string.Join(" | ", profiles)} | {string.Join(" | ", ratios.Select(r => $"{r.Of} / {r.To}"))} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"|---|{string.Concat(Enumerable.Repeat("---|", profiles.Count + ratios.Count))}");
            var figures = s.Profiles.Values.SelectMany(p => p.Figures.Keys).Distinct().Order(StringComparer.Ordinal);
            foreach (var f in figures)
            {
                double? Value(string profile) => s.Profiles.GetValueOrDefault(profile)?.Figures.TryGetValue(f, out var v) == true ? v : null;
                string Ratio((string Of, string To) r) =>
                    Value(r.Of) is { } a && Value(r.To) is { } b && b != 0 && !double.IsInfinity(a) && !double.IsInfinity(b) ? F(a / b) : "–";
                md.AppendLine(CultureInfo.InvariantCulture, $"| {f} | {string.Join(" | ", profiles.Select(p => F(Value(p))))} | {string.Join(" | ", ratios.Select(Ratio))} |");
            }

            foreach (var (profile, p) in s.Profiles)
            {
                if (p.GitHubCountedByEndpoint is { } endpoints && endpoints.Values.Any(v => v > 0))
                {
                    md.AppendLine();
                    md.AppendLine(CultureInfo.InvariantCulture, $"Counted GitHub requests by endpoint ({profile}): {string.Join("; ", endpoints.Where(e => e.Value > 0).OrderByDescending(e => e.Value).Select(e => $"`{e.Key}` {e.Value}"))}.");
                }

                foreach (var note in p.Notes)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"\n- {profile}: {note}");
                }

                if (p.ControllerLog is { Length: > 0 } log)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"\nController log ({profile}): [{log}]({log})");
                }
            }
        }

        if (results.Errors.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Errors");
            foreach (var e in results.Errors)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {e}");
            }
        }

        if (charts.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Charts");
            foreach (var c in charts)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"\n![{c}]({c})");
            }
        }

        return md.ToString();
    }

    public static string F(double? v) => v switch
    {
        null => "–",
        double.PositiveInfinity => "∞",
        var x when double.IsNaN(x.Value) => "–",
        var x when Math.Abs(x.Value) >= 100 => x.Value.ToString("F0", CultureInfo.InvariantCulture),
        var x => x.Value.ToString("0.##", CultureInfo.InvariantCulture),
    };
}
