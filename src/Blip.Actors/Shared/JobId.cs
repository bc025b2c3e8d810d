namespace Blip.Actors.Shared;

/// <summary>A GitHub Actions job id: the shard entity id, so every sighting of one job reaches one actor.</summary>
public sealed record JobId(long Value)
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
