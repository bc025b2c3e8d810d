namespace Blip.Sandbox.Kubernetes;

/// <summary>A resource type the emulator serves: where it lives in the API and how discovery names it.</summary>
public sealed record KubeResource(
    string Group,
    string Version,
    string Plural,
    string Singular,
    string Kind,
    bool Namespaced,
    IReadOnlyList<string> ShortNames,
    IReadOnlyList<string>? Subresources = null)
{
    public static readonly KubeResource Namespaces = new("", "v1", "namespaces", "namespace", "Namespace", false, ["ns"]);
    public static readonly KubeResource ConfigMaps = new("", "v1", "configmaps", "configmap", "ConfigMap", true, ["cm"]);
    public static readonly KubeResource Secrets = new("", "v1", "secrets", "secret", "Secret", true, []);
    /// <summary>Pods: the sandbox publishes one per controller process (<see cref="ControllerPods"/>), with its log.</summary>
    public static readonly KubeResource Pods = new("", "v1", "pods", "pod", "Pod", true, ["po"], ["log"]);
    public static readonly KubeResource Events = new("", "v1", "events", "event", "Event", true, ["ev"]);
    public static readonly KubeResource EventsV1 = new("events.k8s.io", "v1", "events", "event", "Event", true, ["ev"]);
    public static readonly KubeResource VirtualMachines = new("kubevirt.io", "v1", "virtualmachines", "virtualmachine", "VirtualMachine", true, ["vm", "vms"]);
    public static readonly KubeResource VirtualMachineInstances = new("kubevirt.io", "v1", "virtualmachineinstances", "virtualmachineinstance", "VirtualMachineInstance", true, ["vmi", "vmis"]);

    /// <summary>KubeVirt's VirtualMachinePool: the sandbox writes one for each pool beyond the default one (pools jobs are routed to).</summary>
    public static readonly KubeResource VirtualMachinePools = new("pool.kubevirt.io", "v1beta1", "virtualmachinepools", "virtualmachinepool", "VirtualMachinePool", true, ["vmpool", "vmpools"]);

    public static readonly IReadOnlyList<KubeResource> All =
        [Namespaces, ConfigMaps, Secrets, Pods, Events, EventsV1, VirtualMachines, VirtualMachineInstances, VirtualMachinePools];

    /// <summary>"v1" for the core group, "group/version" otherwise.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Custom resources (KubeVirt) take no strategic merge patch and answer a delete with the object.</summary>
    public bool IsCustomResource => Group is "kubevirt.io" or "pool.kubevirt.io";

    /// <summary>KubeVirt's VMs, VMIs and pools serve <c>status</c> as a subresource: a write to the main resource leaves it alone.</summary>
    public bool HasStatusSubresource => IsCustomResource;

    /// <summary>"configmaps" or "virtualmachines.kubevirt.io": how error messages name the resource.</summary>
    public string QualifiedName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public static KubeResource? Find(string group, string version, string plural) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == plural);

    public override string ToString() => Group.Length == 0 ? $"{Version}/{Plural}" : $"{Group}/{Version}/{Plural}";
}
