using Blip.Actors.IntegrationTests.Harness;
using Blip.Sandbox.Pool;
using k8s;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>Faults of the VMs themselves (SSH host keys, the runner's files, deletion, unreadable annotations); what each
/// test asserts is said on <see cref="FaultMatrixTests"/>.</summary>
public sealed class VmFaultTests
{
    [Fact]
    public async Task A_vm_presenting_another_host_key_is_refused_released_and_never_trusted()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 2);
        var liar = world.Sandbox.Pool.Vms[0].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(liar, VmMisbehaviour.WrongHostKey);
        var honest = world.Sandbox.Pool.Vms[1].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(honest, VmMisbehaviour.RefuseConnections);
        await world.StartControllerAsync(o => o.SshAttempts = 2);

        var jobs = await EndState.QueueAsync(world, 1);
        // Both first VMs fail: the liar at once (never retried), the refusing one after its attempts; replacements work.
        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);

        Assert.Contains(world.Log.Lines, l => l.Contains($"VM {liar} presented a host key other than blip.io/host-key"));
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("started on VM " + liar));
        Assert.Contains(world.Sandbox.VmAudit(), a => a.Name == liar && a.Verb == "delete");
        Assert.Equal(1, world.Log.Count($"SSH to VM {liar} failed (HostKeyMismatch"));
    }

    [Fact]
    public async Task A_vm_without_the_runner_dir_is_given_up_and_the_job_runs_elsewhere()
    {
        // One VM's image lacks the runner: a fault of that VM (every VM alike is a configuration fault: ConfigurationFaultTests).
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var bad = world.Sandbox.Pool.Vms[0].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(bad, VmMisbehaviour.RunnerMissing);
        // The default attempts: with one, a loaded machine's slow sshd (Unreachable) gave the VM up before the runner dir
        // was ever looked at.
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 1);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        // The dir was found missing, and the VM given up after its attempts. The give-up line names the last attempt's
        // failure, which on a loaded machine may be a slow sshd (Unreachable) rather than the missing dir again.
        Assert.Contains(world.Log.Lines, l => l.Contains($"SSH to VM {bad} failed (RunnerDirMissing: VM {bad}: runner dir /home/runner/actions-runner is missing"));
        Assert.Contains(world.Log.Lines, l => l.Contains($"SSH to VM {bad} failed (") && l.Contains("giving this VM up"));
        Assert.Contains(world.Sandbox.VmAudit(), a => a.Name == bad && a.Verb == "delete");
        Assert.Equal(2, world.ClaimsOf(jobs[0]).Count);
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("configuration fault"));
        // The given-up VM's registration was deleted: two registrations, both gone, one of which ran the job.
        var runners = await world.GitHub.ListRunnersAsync(all: true);
        Assert.Equal(2, runners.Count);
        Assert.All(runners, r => Assert.NotNull(r.RemovedAt));
    }

    [Fact]
    public async Task A_vm_with_a_malformed_host_key_annotation_is_named_given_up_and_the_job_runs_elsewhere()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var bad = world.Sandbox.Pool.Vms[0].Name;
        var patch = new k8s.Models.V1Patch("""{"metadata":{"annotations":{"blip.io/host-key":"ssh-ed25519 !!not-base64!!"}}}""", k8s.Models.V1Patch.PatchType.MergePatch);
        await world.Sandbox.KubeAdmin.CustomObjects.PatchNamespacedCustomObjectAsync(patch, "kubevirt.io", "v1", "blip", "virtualmachines", bad);
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 1);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        Assert.Contains(world.Log.Lines, l => l.Contains($"VM {bad}: blip.io/host-key 'ssh-ed25519 !!not-base64!!' is not an ssh-ed25519 key"));
        Assert.Contains(world.Sandbox.VmAudit(), a => a.Name == bad && a.Verb == "delete");
        // The key was checked before generate-jitconfig: the bad VM cost no runner registration.
        Assert.Single(await world.GitHub.ListRunnersAsync(all: true));
    }

    [Fact]
    public async Task A_vm_deleted_under_the_controller_mid_provisioning_is_given_up_and_the_job_runs_elsewhere()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var hanging = world.Sandbox.Pool.Vms[0].Name;
        await world.Sandbox.Pool.SetMisbehaviourAsync(hanging, VmMisbehaviour.HangHandshake);
        await world.StartControllerAsync();

        var jobs = await EndState.QueueAsync(world, 1);
        await Deadline.UntilAsync(() => Task.FromResult(world.ClaimsOf(jobs[0]).Any(c => c.Name == hanging)), ok => ok, EndState.Long, "the hanging VM claimed");
        await world.Sandbox.KubeAdmin.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", "virtualmachines", hanging);

        await EndState.AssertEveryJobServedOnceAndNothingLeftAsync(world, jobs);
        Assert.Contains(world.Log.Lines, l => l.Contains($"giving VM {hanging} up"));
        Assert.DoesNotContain(world.Log.Lines, l => l.Contains("started on VM " + hanging));
    }

    [Fact]
    public async Task A_vm_adopted_with_an_unreadable_claimed_at_is_capped_from_the_sighting_not_from_the_adoption()
    {
        await using var world = await PipelineWorld.StartAsync(vms: 1);
        var vm = world.Sandbox.Pool.Vms[0].Name;
        var hostKey = await VmEdits.AnnotationAsync(world, vm, "blip.io/host-key");
        // Without its host key the only VM is not claimable: the job waits in Claiming.
        await VmEdits.MergeAnnotationsAsync(world, vm, """{"blip.io/host-key":null}""");
        await world.StartControllerAsync(o => o.MaxDurationSeconds = 10);
        var job = (await EndState.QueueAsync(world, 1, durationSeconds: 120))[0];
        await Deadline.UntilAsync(() => Task.FromResult(world.Log.Contains($"job {job} (org/repo): failed to allocate runner VM")), ok => ok, EndState.Long, "the job waiting for a VM");
        var waitingSince = DateTimeOffset.UtcNow; // the job was sighted before this

        // A claim for this job appears (as one made before a crash would), its claimed-at unreadable.
        await VmEdits.MergeAnnotationsAsync(world, vm, $$"""
            {"blip.io/host-key":"{{hostKey}}","blip.io/session-id":"actions-{{job}}","blip.io/claimed-at":"not-a-time",
             "blip.io/max-duration":"forever","blip.io/claimed-by":"another-node"}
            """);

        var warned = await Deadline.UntilAsync(
            () => Task.FromResult(world.Log.Lines.FirstOrDefault(l => l.Contains($"VM {vm}: blip.io/claimed-at 'not-a-time' is not an RFC 3339 time"))),
            l => l is not null, EndState.Long, "the unreadable claimed-at named");
        await Deadline.UntilAsync(
            () => Task.FromResult(world.Sandbox.VmAudit().FirstOrDefault(a => a.Name == vm && a.Verb == "delete")),
            a => a is not null, EndState.Long, "the adopted VM released");
        // Counted from the adoption, the cap would start after the annotation was written; counted from the sighting it
        // starts before the job was seen waiting (and is already due). The warning names the time, so no clock is raced.
        var from = DateTimeOffset.Parse(System.Text.RegularExpressions.Regex.Match(warned!, @"counting its hard cap from (\S+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(from <= waitingSince, $"the cap counted from {from:O}, after the job was seen waiting at {waitingSince:O}");
        Assert.Contains(world.Log.Lines, l => l.Contains($"job {job}: VM {vm} reached the hard cap of 10 s"));
    }
}
