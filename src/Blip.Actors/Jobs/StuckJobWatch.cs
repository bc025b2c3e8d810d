using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Blip.Actors.Vms;

namespace Blip.Actors.Jobs;

/// <summary>
/// The node's stuck-job detector. It follows the jobs waiting for a VM on this node (<see cref="WaitingForVm"/>, said by
/// their <see cref="VmClaimer"/>), and at each check publishes the oldest wait per repo and label set
/// (<see cref="WaitingJobsAssessed"/>, the metric) and, for a job waiting longer than <c>Blip:StuckJobAfter</c>, one
/// Warning line and one Warning event on the VirtualMachinePool naming the cause (<see cref="StuckJobs"/>): the pool's
/// claimable VMs come from the node's VM inventory.
/// </summary>
public sealed class StuckJobWatch : ReceiveActor, IWithTimers
{
    private readonly Dictionary<long, WaitingJob> _waiting = [];
    private readonly HashSet<long> _warned = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IVmPool _pool;
    private readonly IActorRef _inventory;
    private readonly string _poolName;
    private readonly TimeSpan _stuckAfter;
    private readonly Func<DateTimeOffset> _now;

    public StuckJobWatch(IVmPool pool, IActorRef inventory, string poolName, TimeSpan stuckAfter, Func<DateTimeOffset> now)
    {
        _pool = pool;
        _inventory = inventory;
        _poolName = poolName;
        _stuckAfter = stuckAfter;
        _now = now;

        Receive<WaitingForVm.Started>(m => _waiting[m.JobId] = new WaitingJob(m.JobId, m.Repo, m.Labels, m.Since, Pool: m.Pool, KnownSince: _now(), Tried: false));
        Receive<WaitingForVm.Tried>(m =>
        {
            if (_waiting.TryGetValue(m.JobId, out var job))
            {
                _waiting[m.JobId] = job with { Tried = true };
            }
        });
        Receive<WaitingForVm.ClaimFailed>(m =>
        {
            if (_waiting.TryGetValue(m.JobId, out var job))
            {
                _waiting[m.JobId] = job with { LastClaimFailure = m.Reason, LastClaimFailureAt = m.At, Tried = true };
            }
        });
        Receive<WaitingForVm.Stopped>(m =>
        {
            _waiting.Remove(m.JobId);
            _warned.Remove(m.JobId);
        });
        Receive<Check>(_ => _inventory.Tell(VmInventoryProtocol.GetAll.Instance));
        Receive<VmInventoryProtocol.AllVms>(m => Assess(m.Vms.Where(v => v.IsClaimable).CountBy(v => v.Pool.Length == 0 ? _poolName : v.Pool).ToDictionary()));
        ReceiveAny(Unhandled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="now">The clock (tests pass their own).</param>
    public static Props Props(IVmPool pool, IActorRef inventory, string poolName, TimeSpan stuckAfter, Func<DateTimeOffset>? now = null) =>
        Akka.Actor.Props.Create(() => new StuckJobWatch(pool, inventory, poolName, stuckAfter, now ?? (() => DateTimeOffset.UtcNow)));

    /// <summary>How often the watch checks: a quarter of the threshold, at most every 15 s.</summary>
    public static TimeSpan CheckInterval(TimeSpan stuckAfter) =>
        TimeSpan.FromTicks(Math.Clamp(stuckAfter.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(15).Ticks));

    protected override void PreStart()
    {
        var events = Context.System.EventStream;
        events.Subscribe(Self, typeof(WaitingForVm.Started));
        events.Subscribe(Self, typeof(WaitingForVm.Tried));
        events.Subscribe(Self, typeof(WaitingForVm.ClaimFailed));
        events.Subscribe(Self, typeof(WaitingForVm.Stopped));
        Timers.StartPeriodicTimer("check", Check.Instance, CheckInterval(_stuckAfter));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    /// <param name="claimableByPool">The claimable VMs of each pool: a job is judged by its own pool's.</param>
    private void Assess(Dictionary<string, int> claimableByPool)
    {
        var now = _now();
        foreach (var job in StuckJobs.NewlyStuck(_waiting.Values, _warned, now, _stuckAfter))
        {
            _warned.Add(job.JobId);
            var pool = job.Pool ?? _poolName;
            var claimable = claimableByPool.GetValueOrDefault(pool);
            var cause = StuckJobs.CauseOf(job, claimable, now);
            var message = $"job {job.JobId} ({job.Repo}) has waited {(now - job.Since).TotalSeconds:0} s for a VM (runs-on [{job.LabelSet}]), " +
                          $"longer than Blip:StuckJobAfter ({_stuckAfter.TotalSeconds:0} s): {StuckJobs.Describe(cause, job, claimable, pool)}";
            _log.Warning("{0}", message);
            var stuck = new VmEvent("JobStuck" + StuckJobs.Reason(cause), message, Warning: true);
            _ = pool == _poolName
                ? _pool.RecordPoolEventAsync(stuck, CancellationToken.None)
                : _pool.RecordPoolEventAsync(pool, stuck, CancellationToken.None);
        }

        Context.System.EventStream.Publish(StuckJobs.Assess(_waiting.Values, now));
    }

    /// <summary>Time to check (the watch's timer; tests send it to check at once).</summary>
    public sealed class Check : INoSerializationVerificationNeeded
    {
        public static readonly Check Instance = new();

        private Check()
        {
        }
    }
}

/// <summary>Registry key of the node's <see cref="StuckJobWatch"/>.</summary>
public sealed class StuckJobWatchKey;

public static class StuckJobWatchRegistration
{
    /// <summary>Starts the node's stuck-job watch; registered after the VM inventory it asks.</summary>
    public static AkkaConfigurationBuilder AddStuckJobWatch(this AkkaConfigurationBuilder builder, IVmPool pool, Func<IActorRegistry, IActorRef> inventory, JobOptions options) =>
        builder.WithActors((system, registry) =>
            registry.Register<StuckJobWatchKey>(system.ActorOf(StuckJobWatch.Props(pool, inventory(registry), options.Pool, options.StuckJobAfter), "stuck-job-watch")));
}
