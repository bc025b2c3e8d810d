using Blip.Sandbox;
using Blip.Sandbox.Kubernetes;

namespace Blip.Actors.Benchmarks;

/// <summary>
/// The two figures that must be 0 whatever the timing. A duplicate is a job two runners ran (the emulator's
/// runner records) or a job whose session <c>actions-&lt;id&gt;</c> was on two VMs with a provisioned runner at the
/// same time (the Kubernetes audit). Any overlap of a session on two VMs is reported too. A job taken up again after its first VM was released (its runner ran another job, as
/// GitHub allows) is counted apart, not as a duplicate; a VM stops holding its session when it is marked
/// <c>blip.io/release=true</c>. A leak is a VM still carrying an <c>actions-*</c>
/// session after every job finished.
/// </summary>
public static class Invariants
{
    public const string SessionAnnotation = "blip.io/session-id";
    public const string ReleaseAnnotation = "blip.io/release";
    public const string ProvisionedAnnotation = "blip.io/runner-provisioned";
    private const string SessionPrefix = "actions-";

    /// <param name="OverlappingClaims">Sessions on two VMs at once in any way, including a VM given up (SSH refused)
    /// whose release was still in flight when the next one was claimed: reported, not an invariant.</param>
    public sealed record Outcome(int Duplicates, int LeakedVms, int RetakenJobs, int OverlappingClaims, IReadOnlyList<string> Details);

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
        var (overlapping, twoRunners) = OverlappingClaims(world.VmAudit(), out var retaken);
        details.AddRange(overlapping.Except(twoRunners).Select(s => $"on two VMs at once, one of them without a runner (given up or not yet provisioned): {s}"));
        details.AddRange(twoRunners.Select(s => $"runners provisioned on two VMs at once: {s}"));

        var runners = await world.GitHubAdmin.ListRunnersAsync(all: true, ct);
        var runTwice = runners.Where(r => r.JobId is not null).GroupBy(r => r.JobId!.Value).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        details.AddRange(runTwice.Select(j => $"job {j} taken by {runners.Count(r => r.JobId == j)} runners"));

        var duplicates = twoRunners.Select(s => s[SessionPrefix.Length..]).Concat(runTwice.Select(j => j.ToString(System.Globalization.CultureInfo.InvariantCulture))).Distinct().Count();
        return new Outcome(duplicates, held.Count, retaken, overlapping.Count, details);
    }

    /// <summary>VMs of the pool that carry an <c>actions-*</c> session now, as "vm=session".</summary>
    public static IReadOnlyList<string> HeldSessions(SandboxWorld world) =>
        world.Kube.Store.List(KubeResource.VirtualMachines, world.Namespace).Items
            .Select(vm => (Name: vm["metadata"]?["name"]?.GetValue<string>() ?? "?", Session: vm["metadata"]?["annotations"]?[SessionAnnotation]?.GetValue<string>()))
            .Where(v => v.Session is not null && v.Session.StartsWith(SessionPrefix, StringComparison.Ordinal))
            .Select(v => $"{v.Name}={v.Session}")
            .ToList();

    /// <summary>Sessions held by two VMs over overlapping intervals, from the audit of VM writes: all of them, and
    /// those where both VMs had a runner provisioned (<c>blip.io/runner-provisioned=true</c>) — two runners for one job.</summary>
    public static (IReadOnlyList<string> Any, IReadOnlyList<string> BothProvisioned) OverlappingClaims(IReadOnlyList<AuditEntry> audit, out int retaken)
    {
        var current = new Dictionary<string, Holding>(StringComparer.Ordinal);
        var holdings = new List<Holding>();
        foreach (var entry in audit.OrderBy(a => a.Time))
        {
            // A VM marked for release is no longer in use, even while its session waits for the delete.
            var released = entry.Annotations.GetValueOrDefault(ReleaseAnnotation) == "true";
            var session = entry.Verb == "delete" || released ? null : entry.Annotations.GetValueOrDefault(SessionAnnotation);
            if (session is not null && !session.StartsWith(SessionPrefix, StringComparison.Ordinal))
            {
                session = null;
            }

            if (current.TryGetValue(entry.Name, out var held) && held.Session != session)
            {
                holdings.Add(held with { To = entry.Time });
                current.Remove(entry.Name);
            }

            if (session is not null)
            {
                var provisioned = entry.Annotations.GetValueOrDefault(ProvisionedAnnotation) == "true";
                current[entry.Name] = current.TryGetValue(entry.Name, out var h)
                    ? h with { Provisioned = h.Provisioned || provisioned }
                    : new Holding(session, entry.Name, entry.Time, DateTimeOffset.MaxValue, provisioned);
            }
        }

        holdings.AddRange(current.Values);
        var bySession = holdings.GroupBy(h => h.Session).ToList();
        retaken = bySession.Count(g => g.Count() > 1);
        static bool Overlap(Holding a, Holding b) => a.From < b.To && b.From < a.To;
        List<string> Where(Func<Holding, Holding, bool> pair) => bySession
            .Where(g => g.SelectMany((a, i) => g.Skip(i + 1), pair).Any(hit => hit))
            .Select(g => g.Key)
            .ToList();
        return (Where(Overlap), Where((a, b) => Overlap(a, b) && a.Provisioned && b.Provisioned));
    }

    private sealed record Holding(string Session, string Vm, DateTimeOffset From, DateTimeOffset To, bool Provisioned);
}
