using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>Where a pod's container log is: a file and the offset its current run starts at.</summary>
public sealed record PodLog(string Path, long Start, string Container);

/// <summary>
/// The Pods the sandbox publishes for its controller processes, as a StatefulSet's pods look in a real cluster:
/// <c>blip-controller-N</c> in the sandbox's namespace, label <c>app=blip-controller</c>, one container whose status
/// follows the process (running, then terminated with its exit code), and its log served through the
/// <c>log</c> subresource. A node started again gets a new pod of the same name (a StatefulSet recreates a failed pod).
/// </summary>
public sealed class ControllerPods(KubeStore store)
{
    public const string NamePrefix = "blip-controller-";
    public const string Container = "blip-controller";
    public const string AppLabel = "blip-controller";
    private const string Writer = "kubelet";

    private readonly ConcurrentDictionary<(string Namespace, string Pod), PodLog> _logs = new();

    public static string NameOf(int index) => NamePrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The log of a pod this class published, or null.</summary>
    public PodLog? LogOf(string ns, string pod) => _logs.GetValueOrDefault((ns, pod));

    /// <summary>Publishes the Running pod of controller <paramref name="index"/>, whose log is <paramref name="logPath"/> from <paramref name="logStart"/>.</summary>
    public JsonObject Started(string ns, int index, int pid, string logPath, long logStart)
    {
        var name = NameOf(index);
        if (store.TryGet(KubeResource.Pods, ns, name) is not null)
        {
            store.Delete(KubeResource.Pods, ns, name, Writer);
        }

        _logs[(ns, name)] = new PodLog(logPath, logStart, Container);
        var now = KubeStore.Timestamp(DateTimeOffset.UtcNow);
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["labels"] = new JsonObject
                {
                    ["app"] = AppLabel,
                    ["statefulset.kubernetes.io/pod-name"] = name,
                    ["apps.kubernetes.io/pod-index"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
                ["annotations"] = new JsonObject { ["blip.io/sandbox-pid"] = pid.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            },
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray(new JsonObject { ["name"] = Container, ["image"] = "blip-controller:sandbox" }),
                // The sandbox does not restart a node by itself: the pod ends with its process.
                ["restartPolicy"] = "Never",
                ["nodeName"] = "sandbox",
                ["hostname"] = name,
            },
            ["status"] = new JsonObject
            {
                ["phase"] = "Running",
                ["hostIP"] = "127.0.0.1",
                ["podIP"] = "127.0.0.1",
                ["startTime"] = now,
                ["conditions"] = new JsonArray(Condition("Initialized", "True", now), Condition("Ready", "True", now),
                    Condition("ContainersReady", "True", now), Condition("PodScheduled", "True", now)),
                ["containerStatuses"] = new JsonArray(ContainerStatus(pid, ready: true, new JsonObject { ["running"] = new JsonObject { ["startedAt"] = now } })),
            },
        };
        return store.Create(KubeResource.Pods, ns, pod, Writer);
    }

    /// <summary>The pod's process exited: phase Succeeded (exit 0) or Failed, its container terminated with the code.</summary>
    public void Exited(string ns, int index, int pid, int exitCode)
    {
        var name = NameOf(index);
        var now = KubeStore.Timestamp(DateTimeOffset.UtcNow);
        if (store.TryGet(KubeResource.Pods, ns, name)?["status"]?["containerStatuses"]?[0]?["containerID"]?.ToString() != ContainerId(pid))
        {
            // Gone, or a newer run of the node already replaced this pod.
            return;
        }

        try
        {
            store.Mutate(KubeResource.Pods, ns, name, pod =>
            {
                var status = pod["status"]!.AsObject();
                var startedAt = status["containerStatuses"]![0]!["state"]?["running"]?["startedAt"]?.ToString() ?? now;
                status["phase"] = exitCode == 0 ? "Succeeded" : "Failed";
                status["conditions"] = new JsonArray(Condition("Initialized", "True", now), Condition("Ready", "False", now),
                    Condition("ContainersReady", "False", now), Condition("PodScheduled", "True", now));
                status["containerStatuses"] = new JsonArray(ContainerStatus(pid, ready: false, new JsonObject
                {
                    ["terminated"] = new JsonObject
                    {
                        ["exitCode"] = exitCode,
                        ["reason"] = exitCode == 0 ? "Completed" : "Error",
                        ["startedAt"] = startedAt,
                        ["finishedAt"] = now,
                        ["containerID"] = ContainerId(pid),
                    },
                }));
            }, Writer);
        }
        catch (KubeApiException e) when (e.Code == 404)
        {
            // Deleted meanwhile: nothing to record.
        }
    }

    private static JsonObject ContainerStatus(int pid, bool ready, JsonObject state) => new()
    {
        ["name"] = Container,
        ["image"] = "blip-controller:sandbox",
        ["imageID"] = "",
        ["containerID"] = ContainerId(pid),
        ["ready"] = ready,
        ["started"] = ready,
        ["restartCount"] = 0,
        ["state"] = state,
    };

    private static string ContainerId(int pid) => $"sandbox://{pid}";

    private static JsonObject Condition(string type, string status, string at) =>
        new() { ["type"] = type, ["status"] = status, ["lastTransitionTime"] = at };
}
