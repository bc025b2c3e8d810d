using Blip.Actors.Shared;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Vms;

public sealed class VmAnnotationsTests
{
    [Fact]
    public void Claim_writes_every_annotation_of_the_design()
    {
        var at = new DateTimeOffset(2026, 11, 27, 12, 0, 5, TimeSpan.FromHours(2));

        var a = VmAnnotations.ForClaim(123, new RepoName("org", "repo"), "node-0", at, 1800);

        Assert.Equal("actions-123", a["blip.io/session-id"]);
        Assert.Equal("2026-11-27T10:00:05Z", a["blip.io/claimed-at"]);
        Assert.Equal("node-0", a["blip.io/claimed-by"]);
        Assert.Equal("1800", a["blip.io/max-duration"]);
        Assert.Equal("true", a["blip.io/ephemeral"]);
        Assert.Equal("actions:org/repo", a["blip.io/user"]);
        Assert.Equal("org/repo", a["blip.io/runner-repo"]);
        Assert.Equal("123", a["blip.io/runner-job-id"]);
        Assert.Equal(8, a.Count);
    }

    [Theory]
    [InlineData("actions-123", 123L)]
    [InlineData("actions-", null)]
    [InlineData("actions--5", null)]
    [InlineData("user-123", null)]
    [InlineData(null, null)]
    [InlineData("actions-12x", null)]
    public void Session_ids_map_back_to_job_ids_only_when_well_formed(string? session, long? expected) =>
        Assert.Equal(expected, VmAnnotations.JobIdOfSession(session));

    private static VmView View(Dictionary<string, string> annotations, bool ready = true, string? address = "127.0.1.5", string? phase = "Running") =>
        new("vm", "1", annotations, InPool: true, ready, address, phase, new Blip.Actors.Tests.ActorFakes.FakeVmSource());

    private static Dictionary<string, string> Keys() => new()
    {
        [VmAnnotations.HostKey] = "ssh-ed25519 AAAA",
        [VmAnnotations.ClientKey] = "ssh-ed25519 BBBB",
    };

    [Fact]
    public void A_ready_unclaimed_vm_with_keys_is_claimable() => Assert.True(View(Keys()).IsClaimable);

    [Fact]
    public void A_vm_with_a_session_is_not_claimable()
    {
        var a = Keys();
        a[VmAnnotations.SessionId] = "someone";
        Assert.False(View(a).IsClaimable);
    }

    [Fact]
    public void A_vm_without_host_key_is_not_claimable()
    {
        var a = Keys();
        a.Remove(VmAnnotations.HostKey);
        Assert.False(View(a).IsClaimable);
    }

    [Fact]
    public void A_vm_not_ready_or_without_address_or_stopped_is_not_claimable()
    {
        Assert.False(View(Keys(), ready: false).IsClaimable);
        Assert.False(View(Keys(), address: null).IsClaimable);
        Assert.False(View(Keys(), phase: "Succeeded").IsClaimable);
    }

    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Sighted = Now.AddMinutes(-5);

    [Fact]
    public void A_readable_claim_time_counts()
    {
        var at = VmAnnotations.ClaimTimeOf("2026-11-28T11:58:00Z", Sighted, Now, out var problem);
        Assert.Equal(Now.AddMinutes(-2), at);
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("")]
    [InlineData("1800")]
    public void An_unreadable_claim_time_counts_from_the_sighting_and_names_the_value(string raw)
    {
        var at = VmAnnotations.ClaimTimeOf(raw, Sighted, Now, out var problem);
        Assert.Equal(Sighted, at);
        Assert.Equal($"blip.io/claimed-at '{raw}' is not an RFC 3339 time", problem);
    }

    [Fact]
    public void A_missing_claim_time_counts_from_the_sighting()
    {
        Assert.Equal(Sighted, VmAnnotations.ClaimTimeOf(null, Sighted, Now, out var problem));
        Assert.Equal("it has no blip.io/claimed-at", problem);
    }

    [Fact]
    public void A_claim_time_in_the_future_cannot_stretch_the_cap()
    {
        Assert.Equal(Now, VmAnnotations.ClaimTimeOf("2099-01-01T00:00:00Z", Sighted, Now, out var problem));
        Assert.Equal("blip.io/claimed-at '2099-01-01T00:00:00Z' is in the future", problem);
    }

    [Fact]
    public void A_huge_unreadable_value_is_shortened_in_the_message()
    {
        VmAnnotations.ClaimTimeOf(new string('x', 10_000), Sighted, Now, out var problem);
        Assert.True(problem!.Length < 200, problem);
    }
}
