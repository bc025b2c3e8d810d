using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Actors.IntegrationTests.Infrastructure;
using Blip.Sandbox.Kubernetes;
using Blip.Sandbox.Pool;
using k8s;

namespace Blip.Actors.IntegrationTests.Sandbox.Pool;

/// <summary>The pool keeps its size like a VirtualMachinePool and follows the runner's exit.</summary>
public sealed class VmPoolTests
{
    [Fact]
    public async Task A_deleted_vm_is_replaced_by_a_new_one_and_everything_it_ran_is_killed()
    {
        await using var world = await KubeWorld.StartAsync(2);
        var (vm, info) = await world.ReadyVmAsync();
        using (var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, await world.ClientKeyAsync(), KubeWorld.HostKeyOf(vm)))
        {
            await ssh.ConnectAsync(CancellationToken.None);
            using var detach = ssh.CreateCommand("nohup sleep 300 >/dev/null 2>&1 </dev/null &");
            detach.CommandTimeout = KubeWorld.Deadline;
            await detach.ExecuteAsync();
        }
        Assert.NotEmpty(KubeWorld.ProcessesWithEnvironment($"BLIP_VM_DIR={info.HomeDir}"));
        var before = world.Pool.ReadyVmNames();
        // Dropping the API's watches (a fault tests inject) must not blind the pool.
        world.Api.Store.DropWatches();

        await world.Admin.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", world.Namespace, "virtualmachines", info.Name);

        // The pool replaces it at once (lowest free index: the terminating VM still holds its name), then the old VM goes.
        await Deadline.EventuallyAsync(() =>
            world.Pool.ReadyVmNames().Count == 2 && world.Api.Store.TryGet(KubeResource.VirtualMachines, world.Namespace, info.Name) is null,
            KubeWorld.Deadline, "a replacement VM");
        Assert.StartsWith("blip-", Assert.Single(world.Pool.ReadyVmNames(), n => !before.Contains(n)));
        Assert.Empty(KubeWorld.ProcessesWithEnvironment($"BLIP_VM_DIR={info.HomeDir}"));
        Assert.Null(world.Api.Store.TryGet(KubeResource.VirtualMachineInstances, world.Namespace, info.Name));
        Assert.Equal(2, world.Api.Store.List(KubeResource.VirtualMachines, world.Namespace).Items.Count);
        if (world.Pool.Vms.All(v => !v.Address.Equals(info.Address)))
        {
            using var tcp = new TcpClient();
            var refused = await Assert.ThrowsAsync<SocketException>(() => tcp.ConnectAsync(info.Address, info.Port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
    }

    [Fact]
    public async Task A_watch_on_pool_vms_sees_a_deletion_and_the_replacement_getting_its_keys()
    {
        await using var world = await KubeWorld.StartAsync(1);
        var (_, info) = await world.ReadyVmAsync();
        var list = JsonNode.Parse(JsonSerializer.Serialize(await world.Admin.CustomObjects.ListNamespacedCustomObjectAsync(
            "kubevirt.io", "v1", world.Namespace, "virtualmachines", labelSelector: "blip.io/pool=blip")))!;
        var rv = list["metadata"]!["resourceVersion"]!.GetValue<string>();

        var uid = world.Api.Store.Get(KubeResource.VirtualMachines, world.Namespace, info.Name)["metadata"]!["uid"]!.GetValue<string>();
        var seen = new List<(WatchEventType Type, string Name, bool Old, bool Terminating, bool HasHostKey)>();
        using var timeout = new CancellationTokenSource(KubeWorld.Deadline);
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, obj) in world.Admin.CustomObjects.WatchListNamespacedCustomObjectAsync(
                               "kubevirt.io", "v1", world.Namespace, "virtualmachines", labelSelector: "blip.io/pool=blip",
                               resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 20, cancellationToken: timeout.Token))
            {
                if (type == WatchEventType.Bookmark)
                {
                    continue;
                }

                var vm = JsonNode.Parse(JsonSerializer.Serialize(obj))!;
                var name = vm["metadata"]!["name"]!.GetValue<string>();
                var hasKey = vm["metadata"]!["annotations"]?[VmPool.HostKeyAnnotation] is not null;
                var old = vm["metadata"]!["uid"]!.GetValue<string>() == uid;
                seen.Add((type, name, old, vm["metadata"]!["deletionTimestamp"] is not null, hasKey));
                if (seen.Any(s => s.Type == WatchEventType.Deleted && s.Old) && seen.Any(s => !s.Old && s.HasHostKey))
                {
                    return;
                }
            }
        });
        await Deadline.EventuallyAsync(() => world.Api.OpenWatches == 1, KubeWorld.Deadline, "the watch to open");

        await world.Admin.CustomObjects.DeleteNamespacedCustomObjectAsync("kubevirt.io", "v1", world.Namespace, "virtualmachines", info.Name);
        await watching.WaitAsync(KubeWorld.Deadline);

        // KubeVirt's finalizer: the delete marks the VM (MODIFIED, deletionTimestamp); the pool makes a replacement
        // at once (the next free index: the old VM still holds its name), then stops the old one: DELETED. The
        // replacement gets its keys once booted.
        Assert.Equal((WatchEventType.Modified, info.Name, true, true, true), seen[0]);
        Assert.Contains((WatchEventType.Deleted, info.Name, true, true, true), seen);
        var replacement = seen.First(s => !s.Old).Name;
        Assert.NotEqual(info.Name, replacement);
        Assert.Contains((WatchEventType.Added, replacement, false, false, false), seen);
        Assert.Contains((WatchEventType.Modified, replacement, false, false, true), seen);
    }

    [Fact]
    public async Task When_the_runner_exits_the_vmi_is_Succeeded_and_no_longer_ready()
    {
        await using var world = await KubeWorld.StartAsync(1);
        var (vm, info) = await world.ReadyVmAsync();
        using (var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, await world.ClientKeyAsync(), KubeWorld.HostKeyOf(vm)))
        {
            await ssh.ConnectAsync(CancellationToken.None);
            using var run = ssh.CreateCommand("cd /home/runner/actions-runner && ./run.sh --jitconfig-from-stdin");
            run.CommandTimeout = KubeWorld.Deadline;
            await run.ExecuteAsync();
            Assert.Equal(0, run.ExitStatus);
            Assert.Contains(info.Name, run.Result);
        }

        await Deadline.EventuallyAsync(() =>
            world.Api.Store.Get(KubeResource.VirtualMachineInstances, world.Namespace, info.Name)["status"]!["phase"]!.GetValue<string>() == "Succeeded",
            KubeWorld.Deadline, "the VMI to succeed");
        var vmi = world.Api.Store.Get(KubeResource.VirtualMachineInstances, world.Namespace, info.Name);
        Assert.Equal("False", vmi["status"]!["conditions"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("Stopped", world.Api.Store.Get(KubeResource.VirtualMachines, world.Namespace, info.Name)["status"]!["printableStatus"]!.GetValue<string>());
        Assert.Empty(world.Pool.ReadyVmNames());
    }
}
