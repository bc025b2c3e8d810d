using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Actors.IntegrationTests.Harness;
using k8s;

namespace Blip.Actors.IntegrationTests.Hardening;

/// <summary>Reads and edits a sandbox VM's annotations as an operator (or a crashed controller) would, with admin rights.</summary>
public static class VmEdits
{
    public static async Task<string> AnnotationAsync(PipelineWorld world, string vm, string key)
    {
        var raw = await world.Sandbox.KubeAdmin.CustomObjects.GetNamespacedCustomObjectAsync("kubevirt.io", "v1", "blip", "virtualmachines", vm);
        var json = JsonNode.Parse(((JsonElement)raw).GetRawText())!;
        return json["metadata"]!["annotations"]![key]!.GetValue<string>();
    }

    public static Task MergeAnnotationsAsync(PipelineWorld world, string vm, string annotationsJson) =>
        world.Sandbox.KubeAdmin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new k8s.Models.V1Patch($$$"""{"metadata":{"annotations":{{{annotationsJson}}}}}""", k8s.Models.V1Patch.PatchType.MergePatch),
            "kubevirt.io", "v1", "blip", "virtualmachines", vm);
}
