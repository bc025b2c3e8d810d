using System.Globalization;
using System.Text;
using Blip.Actors.Inspection;

namespace Blip.Ctl;

/// <summary>The text blipctl prints for each view (Petabridge.Cmd's shapes for the cluster commands). Pure.</summary>
public static class TextFormat
{
    public static string ClusterShow(ClusterView c)
    {
        var text = new StringBuilder();
        foreach (var m in c.Members)
        {
            text.Append(MemberLine(m)).Append('\n');
        }

        return text.Append($"Count: {c.Members.Count} nodes\n").ToString();
    }

    public static string MemberLine(MemberView m) => $"{m.Address} | [{string.Join(",", m.Roles)}] | {m.Status} | {m.Reachability}";

    public static string ClusterStatus(ClusterView c)
    {
        var up = c.Members.Count(m => m.Status == "Up");
        var unreachable = c.Members.Count(m => m.Reachability == "Unreachable");
        return $"Self: {c.Self}\nStatus: {c.SelfStatus}\nLeader: {c.Leader ?? "(none)"}\nMembers: {c.Members.Count} (Up: {up}, Unreachable: {unreachable})\n";
    }

    public static string ClusterLeader(ClusterView c) => (c.Leader ?? "(no leader)") + "\n";

    public static string ClusterEvent(ClusterEventView e) => $"{Time(e.At)} {e.Kind} {e.Address} {e.Detail}".TrimEnd() + "\n";

    public static string Action(ActionView a) => a.Result + "\n";

    public static string Lines(IEnumerable<string> lines) => string.Concat(lines.Select(l => l + "\n"));

    public static string RegionStats(RegionStatsView r)
    {
        var text = new StringBuilder();
        foreach (var m in r.Members)
        {
            text.Append($"{m.Address} | shards: {m.Shards} | entities: {m.Entities}\n");
        }

        foreach (var f in r.Failed)
        {
            text.Append($"failed to answer: {f}\n");
        }

        return text.Append($"Total: {r.Members.Sum(m => m.Shards)} shards, {r.Members.Sum(m => m.Entities)} entities on {r.Members.Count} members\n").ToString();
    }

    public static string ShardStats(RegionStatsView r) => Table(
        ["MEMBER", "SHARD", "ENTITIES"],
        r.Members.SelectMany(m => m.ShardStats
                .OrderBy(s => s.ShardId.Length).ThenBy(s => s.ShardId, StringComparer.Ordinal)
                .Select(s => new[] { m.Address, s.ShardId, s.Entities.ToString(CultureInfo.InvariantCulture) }))
            .ToList());

    public static string Locate(LocateView l) =>
        l.Address is null
            ? $"{l.Type}/{l.EntityId}: shard {l.ShardId}, not allocated to any member\n"
            : $"{l.Type}/{l.EntityId}: shard {l.ShardId} on {l.Address}, entity {(l.EntityAlive == true ? "running" : "not running")}\n";

    public static string Logs(LogView l) =>
        string.Concat(l.Entries.Select(e => $"{Time(e.At)} {Level(e.Level)} {e.Category}: {e.Message}\n"));

    public static string Jobs(JobsView j) =>
        (j.Jobs.Count == 0
            ? "no jobs\n"
            : Table(
                ["ID", "REPO", "PHASE", "OUTCOME", "VM", "RUNNER", "QUEUED"],
                j.Jobs.Select(x => new[]
                {
                    x.Id.ToString(CultureInfo.InvariantCulture), x.Repo ?? "-", x.Phase, x.Outcome ?? "-", x.Vm ?? "-", x.Runner ?? "-", x.QueuedAt is { } q ? Time(q) : "-",
                }).ToList()) + $"Count: {j.Jobs.Count} jobs\n") + More(j);

    /// <summary>Where the next page starts, as the command that shows it.</summary>
    private static string More(JobsView j) => j.More is { } more ? $"More: blipctl jobs list --before {more.ToString(CultureInfo.InvariantCulture)}\n" : "";

    public static string Job(JobDetailView j)
    {
        var text = new StringBuilder();
        text.Append($"Job: {j.Id}\n");
        text.Append($"Repo: {j.Repo ?? "-"} (run {j.RunId})\n");
        text.Append($"Labels: {string.Join(", ", j.Labels)}\n");
        text.Append($"Phase: {j.Phase}\n");
        if (j.Outcome is not null)
        {
            text.Append($"Outcome: {j.Outcome} ({j.Reason})\n");
        }

        text.Append($"VM: {j.Vm ?? "-"}\n");
        text.Append($"Runner: {(j.Runner is null ? "-" : $"{j.Runner} (id {j.RunnerId})")}\n");
        text.Append($"Queued: {Time(j.QueuedAt)}\n");
        text.Append($"Claimed: {Time(j.ClaimedAt)}\n");
        text.Append($"Runner started: {Time(j.RunnerStartedAt)}\n");
        text.Append($"Job started: {Time(j.JobStartedAt)}\n");
        text.Append($"Finished: {Time(j.FinishedAt)}\n");
        if (j.PickupLatencySeconds is { } pickup)
        {
            text.Append($"Pickup latency: {pickup.ToString("F1", CultureInfo.InvariantCulture)} s\n");
        }

        if (j.ProvisioningSeconds is { } provisioning)
        {
            text.Append($"Provisioning: {provisioning.ToString("F1", CultureInfo.InvariantCulture)} s\n");
        }

        if (j.AbandonedVms.Count > 0)
        {
            text.Append($"Abandoned VMs: {string.Join(", ", j.AbandonedVms)}\n");
        }

        text.Append("History:\n");
        foreach (var h in j.History)
        {
            text.Append($"  {h.Seq,3} {Time(h.At)} {h.Event}: {h.Detail}\n");
        }

        return text.ToString();
    }

    public static string Repos(ReposView r) =>
        Lines(r.Repos) + $"Poller node: {r.PollerNode ?? "(none)"}\nCount: {r.Repos.Count} repos\n";

    public static string Vms(VmsView v) =>
        (v.Vms.Count == 0
            ? "no VMs in the pool\n"
            : Table(
                ["NAME", "CLAIMABLE", "SESSION", "CLAIMED-BY", "PHASE", "ADDRESS"],
                v.Vms.Select(x => new[] { x.Name, x.Claimable ? "yes" : "no", x.Session ?? "-", x.ClaimedBy ?? "-", x.Phase ?? "-", x.Address ?? "-" }).ToList()))
        + $"Count: {v.Vms.Count} VMs, {v.Vms.Count(x => x.Claimable)} claimable, {v.Vms.Count(x => x.Session is not null)} claimed{(v.Synced ? "" : " (inventory not synced)")}\n";

    public static string RateLimit(RateLimitView r)
    {
        if (!r.Known)
        {
            return "no GitHub reply seen yet on this node\n";
        }

        var text = new StringBuilder();
        text.Append($"Remaining: {(r.Remaining is { } left ? left.ToString(CultureInfo.InvariantCulture) : "-")} of {(r.Limit is { } limit ? limit.ToString(CultureInfo.InvariantCulture) : "-")}\n");
        text.Append($"Resets: {Time(r.ResetAt)}\n");
        if (r.PausedUntil is { } paused)
        {
            text.Append($"Paused until: {Time(paused)} ({r.PauseReason})\n");
        }

        return text.ToString();
    }

    public static string Config(ConfigView c)
    {
        var text = new StringBuilder();
        text.Append($"Labels: {(c.Labels.Count == 0 ? "(none)" : string.Join(", ", c.Labels))}\n");
        text.Append($"Repos: {(c.Repos.Count == 0 ? "(none)" : string.Join(", ", c.Repos))}\n");
        text.Append($"PAT: {(c.PatPresent ? "present" : "absent")}\n");
        text.Append($"GitHub App: {(c.AppPresent ? "present (used for every call)" : "absent")}\n");
        text.Append($"Config: {(c.Complete ? "complete" : "incomplete")}\n");
        text.Append($"Synced: {(c.Synced ? "yes" : "no")}\n");
        return text.ToString();
    }

    /// <summary>Left-aligned columns separated by two spaces, a header first.</summary>
    public static string Table(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header.ToArray()))
        {
            text.Append(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd()).Append('\n');
        }

        return text.ToString();
    }

    private static string Time(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) : "-";

    private static string Level(string level) => level switch
    {
        "Information" => "INFO",
        "Warning" => "WARN",
        "Error" => "ERROR",
        "Critical" => "CRIT",
        "Debug" => "DEBUG",
        "Trace" => "TRACE",
        _ => level.ToUpperInvariant(),
    };
}
