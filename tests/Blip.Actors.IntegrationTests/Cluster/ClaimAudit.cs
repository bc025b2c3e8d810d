using Blip.Actors.Vms;
using Blip.Sandbox.Kubernetes;

namespace Blip.Actors.IntegrationTests.Cluster;

/// <summary>
/// The Kubernetes API's audit of VM writes, replayed: a claim is a write that puts <c>blip.io/session-id=actions-&lt;id&gt;</c>
/// on a VM that did not carry it. <see cref="MaxConcurrent"/> is the most VMs one job held at the same moment.
/// </summary>
public sealed record ClaimAudit(
    IReadOnlyDictionary<long, int> Claims,
    IReadOnlyDictionary<long, int> MaxConcurrent,
    IReadOnlyList<string> ClaimedNow,
    int Writes)
{
    public static ClaimAudit Of(IReadOnlyList<AuditEntry> vmAudit)
    {
        // By uid: the pool reuses names. A delete ends the VM for this count, although it lingers (finalizer) and the
        // pool's later writes to it (guest stopped, finalizer removed) still carry the session.
        var sessionOf = new Dictionary<string, long>(StringComparer.Ordinal);
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        var claims = new Dictionary<long, int>();
        var maxConcurrent = new Dictionary<long, int>();
        foreach (var entry in vmAudit)
        {
            var vm = string.IsNullOrEmpty(entry.Uid) ? entry.Name : entry.Uid;
            if (deleted.Contains(vm))
            {
                continue;
            }

            var before = sessionOf.TryGetValue(vm, out var b) ? b : (long?)null;
            long? after = entry.Verb == "delete" ? null : VmAnnotations.JobIdOfSession(entry.Annotations.GetValueOrDefault(VmAnnotations.SessionId));
            if (entry.Verb == "delete")
            {
                deleted.Add(vm);
            }

            if (after is null)
            {
                sessionOf.Remove(vm);
            }
            else
            {
                sessionOf[vm] = after.Value;
            }

            if (after is { } job && before != job)
            {
                claims[job] = claims.GetValueOrDefault(job) + 1;
                var held = sessionOf.Values.Count(v => v == job);
                maxConcurrent[job] = Math.Max(maxConcurrent.GetValueOrDefault(job), held);
            }
        }

        return new ClaimAudit(claims, maxConcurrent, sessionOf.Select(e => $"{e.Key}=actions-{e.Value}").Order().ToList(), vmAudit.Count);
    }

    public override string ToString() =>
        $"{Writes} VM writes; claims per job [{string.Join(", ", Claims.OrderBy(c => c.Key).Select(c => $"{c.Key}:{c.Value}"))}]; " +
        $"max VMs held at once per job [{string.Join(", ", MaxConcurrent.OrderBy(c => c.Key).Select(c => $"{c.Key}:{c.Value}"))}]; claimed now [{string.Join(", ", ClaimedNow)}]";
}
