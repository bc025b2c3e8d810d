using System.Text.Json;
using Blip.Actors.IntegrationTests.Infrastructure;
using Blip.Actors.Kubernetes;
using Blip.Actors.Vms;
using Blip.Sandbox.Kubernetes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>
/// KubeVirt's VirtualMachinePool reuses the lowest free index, so a VM's name can belong to a new VM seconds after the
/// old one is deleted (issue 13). The production <see cref="KubeVirtVmPool"/>, with the controller's token, against the
/// sandbox pool that names VMs that way: every write after a claim is guarded by the VM's uid and session.
/// </summary>
public sealed class ReusedVmNameTests
{
    [Fact]
    public async Task A_stale_release_and_annotation_for_a_reused_name_do_not_touch_the_new_vm()
    {
        await using var world = await KubeWorld.StartAsync(1);
        using var client = world.Api.CreateClient(world.Api.ControllerToken);
        var pool = new KubeVirtVmPool(client, new KubernetesOptions { Namespace = world.Namespace, Pool = world.Pool.Options.PoolName, NodeName = "test-node" }, NullLogger<KubeVirtVmPool>.Instance);

        var (firstObject, _) = await world.ReadyVmAsync();
        var name = firstObject["metadata"]!["name"]!.GetValue<string>();
        Assert.Equal("blip-0", name);
        var first = (await ViewAsync(client, world.Namespace, name))!;
        Assert.Equal(ClaimOutcome.Claimed, await pool.TryClaimAsync(first, Claim(1), CancellationToken.None));

        // Blip's deallocation controller deletes job 1's VM; the pool replaces it at once with blip-1 (blip-0 still
        // terminates). blip-1 is deleted in turn, and its replacement takes the lowest free index: blip-0 again. Job 2 claims it.
        await world.Admin.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", world.Namespace, "virtualmachines", name);
        await Deadline.EventuallyAsync(() => world.Pool.ReadyVmNames().SequenceEqual(["blip-1"]), KubeWorld.Deadline, "blip-1 replacing blip-0");
        await world.Admin.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", world.Namespace, "virtualmachines", "blip-1");
        var second = await Deadline.EventuallyAsync(async () =>
        {
            var v = await ViewAsync(client, world.Namespace, name, allowMissing: true);
            return v is not null && v.Uid != first.Uid && v.HostKey is not null && world.Pool.ReadyVmNames().Contains(name) ? v : null;
        }, KubeWorld.Deadline, "a new VM with the reused name");
        Assert.Equal(ClaimOutcome.Claimed, await pool.TryClaimAsync(second, Claim(2), CancellationToken.None));
        var claimed = world.Api.Store.Get(KubeResource.VirtualMachines, world.Namespace, name);

        // Job 1's writes, late: the provisioned mark, the release (with its uid, and as a journal from before uids had it).
        Assert.False(await pool.AnnotateAsync(name, first.Uid, new Dictionary<string, string?> { [VmAnnotations.RunnerProvisioned] = "true" }, CancellationToken.None));
        await pool.ReleaseAsync(name, first.Uid, VmAnnotations.SessionFor(1), CancellationToken.None);
        await pool.ReleaseAsync(name, null, VmAnnotations.SessionFor(1), CancellationToken.None);

        var now = world.Api.Store.Get(KubeResource.VirtualMachines, world.Namespace, name);
        Assert.Equal(second.Uid, now["metadata"]!["uid"]!.GetValue<string>());
        Assert.Null(now["metadata"]!["deletionTimestamp"]);
        Assert.Equal(claimed["metadata"]!["resourceVersion"]!.GetValue<string>(), now["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal(VmAnnotations.SessionFor(2), now["metadata"]!["annotations"]![VmAnnotations.SessionId]!.GetValue<string>());

        // Job 2's own release goes through: marked, then deleted (terminating behind the pool's finalizer, then gone).
        await pool.ReleaseAsync(name, second.Uid, VmAnnotations.SessionFor(2), CancellationToken.None);
        var released = world.Api.Store.Audit.Where(a => a.Resource == "virtualmachines" && a.Name == name && a.User != "kubevirt-pool").ToList();
        Assert.Contains(released, a => a.Verb == "patch" && a.Annotations.GetValueOrDefault(VmAnnotations.Release) == "true" && a.Annotations.GetValueOrDefault(VmAnnotations.SessionId) == VmAnnotations.SessionFor(2));
        Assert.DoesNotContain(released, a => a.Annotations.GetValueOrDefault(VmAnnotations.SessionId) == VmAnnotations.SessionFor(2) && a.Annotations.GetValueOrDefault(VmAnnotations.RunnerProvisioned) == "true");
        await Deadline.EventuallyAsync(() =>
            world.Api.Store.TryGet(KubeResource.VirtualMachines, world.Namespace, name) is null && world.Pool.ReadyVmNames().Count == 1,
            KubeWorld.Deadline, "job 2's VM deleted and replaced");
    }

    [Fact]
    public async Task Kubectl_describe_vm_lists_the_controllers_events_for_that_vm_only()
    {
        await using var world = await KubeWorld.StartAsync(1);
        using var client = world.Api.CreateClient(world.Api.ControllerToken);
        var pool = new KubeVirtVmPool(client, new KubernetesOptions { Namespace = world.Namespace, Pool = world.Pool.Options.PoolName, NodeName = "test-node" }, NullLogger<KubeVirtVmPool>.Instance);
        var (vm, _) = await world.ReadyVmAsync();
        var name = vm["metadata"]!["name"]!.GetValue<string>();
        var uid = vm["metadata"]!["uid"]!.GetValue<string>();

        await pool.RecordEventAsync(name, uid, new VmEvent("Claimed", "claimed for job 7 of org/repo"), CancellationToken.None);
        // An event of an earlier VM of the same name: describe must not show it.
        await pool.RecordEventAsync(name, "uid-of-an-earlier-" + name, new VmEvent("Releasing", "job 6: Completed (earlier VM)"), CancellationToken.None);

        var (exit, stdout, stderr) = await world.BashAsync($"kubectl describe vm {name} -n blip");
        Assert.True(exit == 0, $"kubectl describe exited {exit}: {stderr}");
        Assert.Contains("claimed for job 7 of org/repo", stdout);
        Assert.DoesNotContain("earlier VM", stdout);
    }

    private static IReadOnlyDictionary<string, string> Claim(long jobId) =>
        VmAnnotations.ForClaim(jobId, Blip.Actors.Shared.RepoName.Parse("org/repo"), "test-node", DateTimeOffset.UtcNow, 1800);

    /// <summary>The VM as the controller's cache would hold it, read with the controller's client.</summary>
    private static async Task<VmView?> ViewAsync(IKubernetes client, string ns, string name, bool allowMissing = false)
    {
        try
        {
            var raw = await client.CustomObjects.GetNamespacedCustomObjectAsync("kubevirt.io", "v1", ns, "virtualmachines", name);
            var vm = KubernetesJson.Deserialize<VirtualMachine>(((JsonElement)raw).GetRawText());
            var annotations = vm.Metadata.Annotations is { } a ? new Dictionary<string, string>(a) : [];
            return new VmView(name, vm.Metadata.ResourceVersion, annotations, InPool: true, VmiReady: true, "127.0.1.1", "Running", new KubeVirtVmSource(vm), vm.Metadata.Uid, vm.Metadata.DeletionTimestamp is not null);
        }
        catch (k8s.Autorest.HttpOperationException e) when (allowMissing && e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
