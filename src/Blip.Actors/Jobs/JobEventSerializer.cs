using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Blip.Actors.Jobs;

/// <summary>
/// JSON for persisted job events with stable, versioned manifests: the journal never holds a CLR type name,
/// so moving or renaming a type keeps old journals readable.
/// </summary>
public sealed class JobEventSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 8_471_001;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<Type, string> Manifests = new()
    {
        [typeof(JobEvents.JobSighted)] = "job-sighted.v1",
        [typeof(JobEvents.VmClaimed)] = "vm-claimed.v1",
        [typeof(JobEvents.RunnerRegistered)] = "runner-registered.v1",
        [typeof(JobEvents.RunnerStarted)] = "runner-started.v1",
        [typeof(JobEvents.RunnerJobStarted)] = "runner-job-started.v1",
        [typeof(JobEvents.VmAbandoned)] = "vm-abandoned.v1",
        [typeof(JobEvents.JobFinished)] = "job-finished.v1",
        [typeof(JobEvents.VmReleased)] = "vm-released.v1",
    };

    private static readonly Dictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"no manifest for {o.GetType()}", nameof(o));

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Json) ?? throw new System.Runtime.Serialization.SerializationException($"empty {manifest}")
            : throw new System.Runtime.Serialization.SerializationException($"unknown job event manifest '{manifest}'");
}
