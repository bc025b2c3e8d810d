extern alias blipctl;
using blipctl::Blip.Actors.Inspection;
using blipctl::Blip.Ctl;

namespace Blip.Actors.Tests.Inspection;

public sealed class TextFormatTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static readonly ClusterView TwoNodes = new(
        "akka.tcp://blip@10.0.0.1:4053",
        "Up",
        "akka.tcp://blip@10.0.0.1:4053",
        [
            new MemberView("akka.tcp://blip@10.0.0.1:4053", ["controller"], "Up", "Reachable"),
            new MemberView("akka.tcp://blip@10.0.0.2:4053", ["controller"], "Up", "Unreachable"),
        ]);

    [Fact]
    public void Cluster_show_prints_one_line_per_member_then_the_count() =>
        Assert.Equal(
            "akka.tcp://blip@10.0.0.1:4053 | [controller] | Up | Reachable\n" +
            "akka.tcp://blip@10.0.0.2:4053 | [controller] | Up | Unreachable\n" +
            "Count: 2 nodes\n",
            TextFormat.ClusterShow(TwoNodes));

    [Fact]
    public void Cluster_status_and_leader()
    {
        Assert.Equal(
            "Self: akka.tcp://blip@10.0.0.1:4053\nStatus: Up\nLeader: akka.tcp://blip@10.0.0.1:4053\nMembers: 2 (Up: 2, Unreachable: 1)\n",
            TextFormat.ClusterStatus(TwoNodes));
        Assert.Equal("akka.tcp://blip@10.0.0.1:4053\n", TextFormat.ClusterLeader(TwoNodes));
    }

    [Fact]
    public void Config_show_says_when_a_github_app_is_used() =>
        Assert.Contains("PAT: absent\nGitHub App: present (used for every call)\n",
            TextFormat.Config(new ConfigView(true, true, false, ["self-hosted", "blip"], ["org/repo"], AppPresent: true)));

    [Fact]
    public void Config_show_says_whether_the_pat_is_present_and_nothing_more()
    {
        var text = TextFormat.Config(new ConfigView(true, true, true, ["self-hosted", "blip"], ["org/repo", "org/other"]));

        Assert.Equal("Labels: self-hosted, blip\nRepos: org/repo, org/other\nPAT: present\nGitHub App: absent\nConfig: complete\nSynced: yes\n", text);
    }

    [Fact]
    public void Tables_align_columns()
    {
        var text = TextFormat.Vms(new VmsView(true,
        [
            new VmRowView("blip-a", true, null, null, null, "127.0.1.1", "Running", true, false),
            new VmRowView("blip-long-name", false, "actions-7", "node-0", 7, "127.0.1.2", "Running", true, false),
        ]));

        Assert.Equal(
            "NAME            CLAIMABLE  SESSION    CLAIMED-BY  PHASE    ADDRESS\n" +
            "blip-a          yes        -          -           Running  127.0.1.1\n" +
            "blip-long-name  no         actions-7  node-0      Running  127.0.1.2\n" +
            "Count: 2 VMs, 1 claimable, 1 claimed\n",
            text);
    }

    [Fact]
    public void Jobs_show_prints_the_history_with_times()
    {
        var text = TextFormat.Job(new JobDetailView(7, "org/repo", "Done", "Completed", "runner finished", ["self-hosted"], 3, "blip-a", 9, "blip-7-x",
            T0, T0.AddSeconds(1), T0.AddSeconds(4), T0.AddSeconds(6), T0.AddSeconds(9), 4, 3, 1, [],
            [new JobHistoryEntryView(1, T0, "JobSighted", "queued in org/repo"), new JobHistoryEntryView(2, null, "RunnerRegistered", "registered runner blip-7-x (id 9)")]));

        Assert.Contains("Outcome: Completed (runner finished)\n", text);
        Assert.Contains("Pickup latency: 4.0 s\n", text);
        Assert.Contains("Runner started: 2026-11-27T12:00:04.000Z\nJob started: 2026-11-27T12:00:06.000Z\n", text);
        Assert.Contains("History:\n    1 2026-11-27T12:00:00.000Z JobSighted: queued in org/repo\n    2 - RunnerRegistered: registered runner blip-7-x (id 9)\n", text);
    }

    [Fact]
    public void Shard_stats_list_each_shard_of_each_member() =>
        Assert.Equal(
            "MEMBER                         SHARD  ENTITIES\n" +
            "akka.tcp://blip@10.0.0.1:4053  2      1\n" +
            "akka.tcp://blip@10.0.0.1:4053  10     3\n",
            TextFormat.ShardStats(new RegionStatsView("job", [new RegionMemberStatsView("akka.tcp://blip@10.0.0.1:4053", 2, 4, [new ShardStatView("10", 3), new ShardStatView("2", 1)])], [])));
}
