using System.Text.Json.Nodes;

namespace Blip.Sandbox.Pool;

/// <summary>The objects <see cref="VmPool"/> writes, shaped as KubeVirt's VirtualMachinePool and VM controller write them.</summary>
internal static class PoolObjects
{
    private const string PoolRevision = "6b7f9c5d4";

    /// <summary>The pool itself, as an operator writes it: <paramref name="replicas"/> VMs selected by <c>blip.io/pool</c>.</summary>
    public static JsonObject VirtualMachinePool(string poolName, int replicas) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = poolName },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { [VmPool.PoolLabel] = poolName } },
            ["virtualMachineTemplate"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { [VmPool.PoolLabel] = poolName } },
                ["spec"] = new JsonObject { ["runStrategy"] = "RerunOnFailure" },
            },
        },
    };

    /// <summary>A new pool VM: the pool's labels and revision, the pool as its controller owner, KubeVirt's finalizer; starting.</summary>
    public static JsonObject VirtualMachine(string name, string poolName, string poolUid) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject
            {
                [VmPool.PoolLabel] = poolName,
                ["kubevirt.io/vmpool"] = poolName,
                [VmPool.RevisionLabel] = $"{poolName}-{PoolRevision}",
            },
            ["ownerReferences"] = ControllerRef("pool.kubevirt.io/v1beta1", "VirtualMachinePool", poolName, poolUid),
            ["finalizers"] = new JsonArray(VmPool.VmFinalizer),
        },
        ["spec"] = new JsonObject
        {
            ["runStrategy"] = "Always",
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { [VmPool.PoolLabel] = poolName } },
                ["spec"] = new JsonObject { ["domain"] = new JsonObject { ["devices"] = new JsonObject() } },
            },
        },
        ["status"] = VmStatus("Starting", ready: false),
    };

    /// <summary>A VM's <c>status</c>: <c>Starting</c>, <c>Running</c> or <c>Stopped</c>.</summary>
    public static JsonObject VmStatus(string printableStatus, bool ready) =>
        new() { ["printableStatus"] = printableStatus, ["ready"] = ready, ["created"] = true };

    /// <summary>The running instance of VM <paramref name="name"/> (uid <paramref name="vmUid"/>) at <paramref name="address"/>.</summary>
    public static JsonObject Instance(string name, string poolName, string? vmUid, string address) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject { [VmPool.PoolLabel] = poolName, ["kubevirt.io/vmpool"] = poolName },
            // KubeVirt's VM controller makes the VM the instance's controller (setupVMIFromVM, NewControllerRef).
            ["ownerReferences"] = ControllerRef("kubevirt.io/v1", "VirtualMachine", name, vmUid),
        },
        ["spec"] = new JsonObject { ["domain"] = new JsonObject { ["devices"] = new JsonObject() } },
        ["status"] = VmiStatus("Running", ready: true, address),
    };

    /// <summary>An instance's <c>status</c>: its phase, its Ready condition and its one interface's address.</summary>
    public static JsonObject VmiStatus(string phase, bool ready, string address) => new()
    {
        ["phase"] = phase,
        ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
        ["interfaces"] = new JsonArray(new JsonObject { ["ipAddress"] = address, ["ipAddresses"] = new JsonArray(address), ["name"] = "default" }),
    };

    /// <summary>The owner as the object's controller, as Kubernetes' <c>NewControllerRef</c> makes it.</summary>
    private static JsonArray ControllerRef(string apiVersion, string kind, string name, string? uid) => new(new JsonObject
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["name"] = name,
        ["uid"] = uid,
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    });

    public static bool IsReady(JsonObject vmi) =>
        (vmi["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>()
        .Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True") == true;
}
