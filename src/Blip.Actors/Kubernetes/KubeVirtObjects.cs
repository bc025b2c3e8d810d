using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Blip.Actors.Kubernetes;

/// <summary>kubevirt.io/v1 VirtualMachine. Spec and status stay raw JSON so a replace never drops a field.</summary>
public sealed class VirtualMachine : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "kubevirt.io";
    public const string Version = "v1";
    public const string Plural = "virtualmachines";

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "kubevirt.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "VirtualMachine";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public JsonObject? Spec { get; set; }
    [JsonPropertyName("status")] public JsonObject? Status { get; set; }
}

/// <summary>kubevirt.io/v1 VirtualMachineInstance: the running VM; we read its phase, Ready condition and address.</summary>
public sealed class VirtualMachineInstance : IKubernetesObject<V1ObjectMeta>
{
    public const string Plural = "virtualmachineinstances";

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "kubevirt.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "VirtualMachineInstance";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public JsonObject? Spec { get; set; }
    [JsonPropertyName("status")] public VmiStatus? Status { get; set; }
}

public sealed class VmiStatus
{
    [JsonPropertyName("phase")] public string? Phase { get; set; }
    [JsonPropertyName("conditions")] public List<VmiCondition>? Conditions { get; set; }
    [JsonPropertyName("interfaces")] public List<VmiInterface>? Interfaces { get; set; }

    [JsonIgnore]
    public bool Ready => Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    [JsonIgnore]
    public string? Address => Interfaces is [var first, ..] ? first.IpAddress : null;
}

public sealed class VmiCondition
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("status")] public string? Status { get; set; }
}

public sealed class VmiInterface
{
    [JsonPropertyName("ipAddress")] public string? IpAddress { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
}

public sealed class CustomObjectList<T>
{
    [JsonPropertyName("metadata")] public V1ListMeta? Metadata { get; set; }
    [JsonPropertyName("items")] public List<T> Items { get; set; } = [];
}
