using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Blip.Actors.Config;
using Blip.Actors.Polling;
using Blip.Actors.Runners;
using Blip.Actors.Vms;

namespace Blip.Actors.Inspection;

/// <summary>The domain: jobs (from the journal), the polled repos, the VM pool, the rate limit and the config.</summary>
public sealed class JobsInspector(ActorSystem system, IActorRegistry registry, InspectionOptions options, IGitHubActions? gitHub = null)
{
    private readonly JobJournal _journal = new(system, options.Journal);

    /// <summary>
    /// The <paramref name="limit"/> jobs sighted most recently before <paramref name="before"/> (a position from an earlier
    /// page; null: from the newest) that match the filters, and where the next page starts (<see cref="JobPaging"/>).
    /// </summary>
    public async Task<JobsView> JobsAsync(string? repo, string? state, int limit, long? before, CancellationToken ct)
    {
        var page = await JobPaging.PageAsync(
            (position, count) => _journal.SightingsAsync(position, count, ct),
            async jobId => (await _journal.ReadAsync(jobId, ct).ConfigureAwait(false))?.State,
            s => JobViews.Matches(s, repo, state),
            limit,
            before).ConfigureAwait(false);
        return new JobsView(page.Jobs.Select(JobViews.Summary).ToList(), page.More);
    }

    public async Task<JobDetailView> JobAsync(long jobId, CancellationToken ct)
    {
        var record = await _journal.ReadAsync(jobId, ct).ConfigureAwait(false)
            ?? throw new InspectionException(404, $"job {jobId}: no such job in the journal");
        return JobViews.Detail(record);
    }

    /// <summary>Asks the poller coordinator, a cluster singleton that runs on the oldest controller member, through its
    /// proxy in the registry.</summary>
    public async Task<ReposView> ReposAsync()
    {
        var oldest = Cluster.Get(system).State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole("controller"))
            .Aggregate((Member?)null, (best, m) => best is null || m.IsOlderThan(best) ? m : best)
            ?? throw new InspectionException(503, "no controller member is Up: the poller coordinator is not running");
        var polled = await registry.Get<PollerCoordinatorKey>().Ask<PollerQueries.PolledRepos>(PollerQueries.GetPolledRepos.Instance, InspectionAsks.Timeout).ConfigureAwait(false);
        return new ReposView(polled.Repos, oldest.Address.ToString());
    }

    public async Task<VmsView> VmsAsync()
    {
        var all = await InspectionAsks.OrNull<VmInventoryProtocol.AllVms>(registry.Get<VmInventoryKey>(), VmInventoryProtocol.GetAll.Instance, InspectionAsks.Timeout).ConfigureAwait(false)
            ?? throw new InspectionException(503, $"VM inventory of pool {options.Pool} not synced yet");
        return new VmsView(all.Synced, all.Vms
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .Select(v => new VmRowView(
                v.Name,
                v.IsClaimable,
                string.IsNullOrEmpty(v.SessionId) ? null : v.SessionId,
                v.Annotations.GetValueOrDefault(VmAnnotations.ClaimedBy),
                v.ClaimedByJob,
                v.Address,
                v.VmiPhase,
                v.VmiReady,
                v.ReleaseRequested))
            .ToList());
    }

    /// <summary>This node's view of the PAT's rate limit (each node reads it from its own replies).</summary>
    public RateLimitView RateLimit() =>
        gitHub?.RateLimit is { } r
            ? new RateLimitView(true, r.Limit, r.Remaining, r.ResetAt, r.PausedUntil, r.PauseReason)
            : new RateLimitView(false, null, null, null, null, null);

    public async Task<ConfigView> ConfigAsync()
    {
        var settings = await registry.Get<ConfigWatcherKey>().Ask<ConfigProtocol.SettingsChanged>(ConfigProtocol.GetSettings.Instance, InspectionAsks.Timeout).ConfigureAwait(false);
        return new ConfigView(
            settings.Synced,
            settings.Config is not null,
            settings.HasPat,
            settings.Config?.RunnerLabels.ToList() ?? [],
            settings.Config?.Repos.Select(r => r.FullName).ToList() ?? [],
            settings.HasApp);
    }
}
