using System.Text.Json.Nodes;

namespace Blip.Sandbox.GitHub;

/// <summary>Spoils a success reply as an <see cref="EndpointFault.Corrupt"/> asks (<see cref="ReplyCorruption.HugePage"/>
/// is done by the paging itself). Items are told apart by the listing that holds them or by their own fields.</summary>
internal static class ReplyCorrupter
{
    public const string UnknownStatus = "waiting_for_moon";
    public const string UnknownConclusion = "eclipsed";
    public const string UnknownRunnerStatus = "hibernating";
    public const string UnknownAccountType = "Wizard";
    public const string UnknownVisibility = "secret";

    private static readonly string[] JobFieldsInTurn = ["id", "labels", "status"];

    /// <summary>The serialized reply, spoiled as <paramref name="kind"/> says.</summary>
    public static byte[] Apply(ReplyCorruption kind, JsonNode body)
    {
        // The handlers build a fresh body per call: spoiling it in place touches no state.
        if (kind is ReplyCorruption.MissingFields or ReplyCorruption.UnknownEnums)
        {
            Spoil(kind, body);
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(body.ToJsonString());
        return kind == ReplyCorruption.InvalidJson ? bytes[..(bytes.Length / 2)] : bytes;
    }

    private static void Spoil(ReplyCorruption kind, JsonNode body)
    {
        if (body is not JsonObject reply)
        {
            return;
        }

        foreach (var (list, item) in new[] { ("workflow_runs", Item.Run), ("jobs", Item.Job), ("runners", Item.Runner) })
        {
            if (reply[list] is not JsonArray items)
            {
                continue;
            }

            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is JsonObject o)
                {
                    SpoilItem(kind, item, o, i);
                }
            }
            return;
        }

        if (reply.ContainsKey("encoded_jit_config"))
        {
            if (kind == ReplyCorruption.MissingFields)
            {
                reply.Remove("encoded_jit_config");
            }
            else if (reply["runner"] is JsonObject runner)
            {
                SpoilItem(kind, Item.Runner, runner, 0);
            }

            return;
        }

        var single = reply.ContainsKey("run_id") ? Item.Job
            : reply.ContainsKey("workflow_id") ? Item.Run
            : reply.ContainsKey("busy") ? Item.Runner
            : (Item?)null;
        if (single is { } one)
        {
            SpoilItem(kind, one, reply, 0);
        }
    }

    private enum Item { Run, Job, Runner }

    private static void SpoilItem(ReplyCorruption kind, Item item, JsonObject o, int index)
    {
        switch (kind, item)
        {
            case (ReplyCorruption.MissingFields, Item.Run):
                o.Remove("id");
                break;
            case (ReplyCorruption.MissingFields, Item.Job):
                o.Remove(JobFieldsInTurn[index % JobFieldsInTurn.Length]);
                break;
            case (ReplyCorruption.MissingFields, Item.Runner):
                o.Remove("name");
                break;
            case (ReplyCorruption.UnknownEnums, Item.Run):
                o["status"] = UnknownStatus;
                o["conclusion"] = UnknownConclusion;
                foreach (var user in new[] { o["actor"], o["triggering_actor"], o["repository"]?["owner"] }.OfType<JsonObject>())
                {
                    user["type"] = UnknownAccountType;
                }

                if (o["repository"] is JsonObject repository)
                {
                    repository["visibility"] = UnknownVisibility;
                }

                break;
            case (ReplyCorruption.UnknownEnums, Item.Job):
                o["status"] = UnknownStatus;
                o["conclusion"] = UnknownConclusion;
                break;
            case (ReplyCorruption.UnknownEnums, Item.Runner):
                o["status"] = UnknownRunnerStatus;
                break;
        }
    }
}
