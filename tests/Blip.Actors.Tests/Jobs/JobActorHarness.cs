using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Blip.Actors.Hosting;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;
using Blip.Actors.Tests.ActorFakes;
using Blip.Actors.Vms;

namespace Blip.Actors.Tests.Jobs;

/// <summary>
/// One job actor on an in-memory journal with its real children (claimer, bootstrapper) driven through a probe standing
/// in for the VM inventory and fake adapters. Persisted events are read from the EventStream; the SSH start is held
/// until the test lets it finish, so Provisioning lasts as long as a test needs.
/// </summary>
public abstract class JobActorHarness : TestKit
{
    protected const long Id = 42;
    protected static readonly RepoName Repo = new("org", "repo");

    private const string Config = """
        akka.loglevel = INFO
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """ + "\n" + LeanMailbox.Hocon;

    protected JobActorHarness()
        : base(Config)
    {
        Inventory = CreateTestProbe();
        Events = CreateTestProbe();
        Sys.EventStream.Subscribe(Events.Ref, typeof(JobEventPublished));
        Shell.OnStart = _ => ShellGate.Task;
    }

    protected FakeVmPool Pool { get; } = new();
    protected FakeGitHub GitHub { get; } = new();
    protected FakeShell Shell { get; } = new();
    protected TestProbe Inventory { get; }
    protected TestProbe Events { get; }
    protected TaskCompletionSource ShellGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    protected IActorRef Job { get; private set; } = ActorRefs.Nobody;

    /// <summary>When the poll behind <see cref="Sighting"/> was sent.</summary>
    protected DateTimeOffset SightedAt { get; } = DateTimeOffset.UtcNow;

    protected JobCommands.Sighted Sighting(DateTimeOffset? observedAt = null) =>
        new(new JobId(Id), Repo, ImmutableArray.Create("self-hosted", "blip"), 7, SightedAt.AddSeconds(-5), observedAt ?? SightedAt);

    protected IActorRef StartJob(Action<BlipOptions>? tweak = null)
    {
        var options = new BlipOptions { NodeName = "test-node" };
        tweak?.Invoke(options);
        Job = Sys.ActorOf(JobActor.Props(Id.ToString(System.Globalization.CultureInfo.InvariantCulture), new JobDependencies(Pool, GitHub, Shell, Inventory.Ref, options.ForJobs(), new ConfigurationFaults())));
        return Job;
    }

    protected async Task<T> NextEventAsync<T>()
        where T : IJobEvent
    {
        var published = await Events.ExpectMsgAsync<JobEventPublished>(TimeSpan.FromSeconds(30));
        return Assert.IsType<T>(published.Event);
    }

    protected async Task<JobQueries.Status> StatusAsync() =>
        await Job.Ask<JobQueries.Status>(new JobQueries.GetStatus(new JobId(Id)), TimeSpan.FromSeconds(30));

    /// <summary>Asks for the status: every message sent before it has been handled (persisted too) when it answers.
    /// Then no event may have been published since the last one the test read.</summary>
    protected async Task<JobQueries.Status> StatusWithNoNewEventAsync()
    {
        var status = await StatusAsync();
        Assert.False(Events.HasMessages, $"an unexpected event: {(Events.HasMessages ? Events.ReceiveOne(TimeSpan.Zero) : null)}");
        return status;
    }

    /// <summary>Sighted → Claiming, its claimer waiting for an offer; returns the claimer.</summary>
    protected async Task<IActorRef> ClaimingAsync(Action<BlipOptions>? tweak = null)
    {
        StartJob(tweak);
        Job.Tell(Sighting());
        await NextEventAsync<JobEvents.JobSighted>();
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.FindVmOfJob>(m => Assert.Equal(Id, m.JobId));
        var claimer = Inventory.LastSender;
        Inventory.Reply(new VmInventoryProtocol.VmOfJob(null));
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.RequestVm>();
        return claimer;
    }

    /// <summary>… → Provisioning on vm-a, the runner registered, its SSH start held; returns the bootstrapper.</summary>
    protected async Task<IActorRef> ProvisioningAsync(Action<BlipOptions>? tweak = null)
    {
        await ClaimingAsync(tweak);
        Inventory.Reply(new VmInventoryProtocol.VmOffer(FakeVmPool.Vm("vm-a")));
        Assert.Equal("vm-a", (await NextEventAsync<JobEvents.VmClaimed>()).VmName);
        await Inventory.ExpectMsgAsync<VmInventoryProtocol.GetVm>(m => Assert.Equal("vm-a", m.VmName));
        Inventory.Reply(new VmInventoryProtocol.VmOfJob(FakeVmPool.Vm("vm-a", Id)));
        await NextEventAsync<JobEvents.RunnerRegistered>();
        await AwaitConditionAsync(() => Task.FromResult(!Shell.Started.IsEmpty), TimeSpan.FromSeconds(30));
        return await ChildAsync("bootstrap-");
    }

    /// <summary>… → Running on vm-a.</summary>
    protected async Task RunningAsync(Action<BlipOptions>? tweak = null)
    {
        await ProvisioningAsync(tweak);
        ShellGate.SetResult();
        await NextEventAsync<JobEvents.RunnerStarted>();
    }

    /// <summary>… → Running, then finished by its VM stopping, released → Done.</summary>
    protected async Task DoneAsync(Action<BlipOptions>? tweak = null)
    {
        await RunningAsync(tweak);
        Job.Tell(new JobCommands.VmStopped(new JobId(Id), "vm-a", Deleted: false));
        await NextEventAsync<JobEvents.JobFinished>();
        await NextEventAsync<JobEvents.VmReleased>();
    }

    /// <summary>The job actor's current child whose name starts with <paramref name="prefix"/>.</summary>
    protected async Task<IActorRef> ChildAsync(string prefix)
    {
        var identity = await Sys.ActorSelection(Job.Path / (prefix + "*")).Ask<ActorIdentity>(new Identify(prefix), TimeSpan.FromSeconds(10));
        return identity.Subject ?? throw new InvalidOperationException($"no child {prefix}* of {Job.Path}");
    }
}
