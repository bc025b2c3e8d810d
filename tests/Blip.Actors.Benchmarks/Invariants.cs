using Blip.Sandbox;
using Blip.Sandbox.Kubernetes;

namespace Blip.Actors.Benchmarks;

/// <summary>
/// The two figures that must be 0 whatever the timing. A duplicate is a job some runner ran twice (emulator's
/// runner records) or a job whose session <c>actions-&lt;id&gt;</c> was on two VMs at the same time (the
/// Kubernetes audit). A job taken up again after its first VM was released (its runner ran another job, as
/// GitHub allows) is counted apart, not as a duplicate. A leak is a VM still carrying an <c>actions-*</c>
/// session after every job finished.
/// </summary>
public static class Invariants
{
    public const string SessionAnnotation = "blip.io/session-id";
    private const string SessionPrefix = "actions-";

    public sealed record Outcome(int Duplicates, int LeakedVms, int RetakenJobs, IReadOnlyList<string> Details);

    /// <summary>Waits (up to <paramref name="releaseTimeout"/>) for every session to be released, then checks.</summary>
    public static async Task<Outcome> CheckAsync(SandboxWorld world, TimeSpan releaseTimeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + releaseTimeout;
        IReadOnlyList<string> held;
        while ((held = HeldSessions(world)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, ct);
        }

        var details = held.Select(h => $"leaked: {h}").ToList();
        var overlapping = OverlappingClaims(world.VmAudit(), out var retaken);
        details.AddRange(overlapping.Select(s => $"claimed on two VMs at once: {s}"));

        var runners = await world.GitHubAdmin.ListRunnersAsync(all: true, ct);
        var runTwice = runners.Where(r => r.JobId is not null).GroupBy(r => r.JobId!.Value).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        details.AddRange(runTwice.Select(j => $"job {j} taken by {runners.Count(r => r.JobId == j)} runners"));

        var duplicates = overlapping.Select(s => s[SessionPrefix.Length..]).Concat(runTwice.Select(j => j.ToString(System.Globalization.CultureInfo.InvariantCulture))).Distinct().Count();
        return new Outcome(duplicates, held.Count, retaken, details);
    }

    /// <summary>VMs of the pool that carry an <c>actions-*</c> session now, as "vm=session".</summary>
    public static IReadOnlyList<string> HeldSessions(SandboxWorld world) =>
        world.Kube.Store.List(KubeResource.VirtualMachines, world.Namespace).Items
            .Select(vm => (Name: vm["metadata"]?["name"]?.GetValue<string>() ?? "?", Session: vm["metadata"]?["annotations"]?[SessionAnnotation]?.GetValue<string>()))
            .Where(v => v.Session is not null && v.Session.StartsWith(SessionPrefix, StringComparison.Ordinal))
            .Select(v => $"{v.Name}={v.Session}")
            .ToList();

    /// <summary>Sessions held by two VMs over overlapping intervals, from the audit of VM writes.</summary>
    public static IReadOnlyList<string> OverlappingClaims(IReadOnlyList<AuditEntry> audit, out int retaken)
    {
        var current = new Dictionary<string, (string Session, DateTimeOffset From)>(StringComparer.Ordinal);
        var holdings = new List<(string Session, string Vm, DateTimeOffset From, DateTimeOffset To)>();
        foreach (var entry in audit.OrderBy(a => a.Time))
        {
            var session = entry.Verb == "delete" ? null : entry.Annotations.GetValueOrDefault(SessionAnnotation);
            if (session is not null && !session.StartsWith(SessionPrefix, StringComparison.Ordinal)) session = null;
            if (current.TryGetValue(entry.Name, out var held) && held.Session != session)
            {
                holdings.Add((held.Session, entry.Name, held.From, entry.Time));
                current.Remove(entry.Name);
            }

            if (session is not null && !current.ContainsKey(entry.Name))
            {
                current[entry.Name] = (session, entry.Time);
            }
        }

        holdings.AddRange(current.Select(c => (c.Value.Session, c.Key, c.Value.From, DateTimeOffset.MaxValue)));
        var bySession = holdings.GroupBy(h => h.Session).ToList();
        retaken = bySession.Count(g => g.Count() > 1);
        return bySession
            .Where(g => g.SelectMany((a, i) => g.Skip(i + 1), (a, b) => a.From < b.To && b.From < a.To).Any(overlap => overlap))
            .Select(g => g.Key)
            .ToList();
    }
}
