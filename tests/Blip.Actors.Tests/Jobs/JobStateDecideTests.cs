using Akka.Actor;
using Akka.Persistence;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;
using Blip.Actors.Shared;

namespace Blip.Actors.Tests.Jobs;

/// <summary>
/// <see cref="JobState.Decide"/> for every input in every phase: the events it records and the effects it asks for
/// (log lines aside). The table is the job's whole protocol; a row per input, a cell per phase.
/// </summary>
public sealed class JobStateDecideTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly JobLimits Limits = new(MaxVmsGivenUpPerJob: 5, QueuedSightingTimeout: TimeSpan.FromMinutes(2), IdleRunnerGrace: TimeSpan.FromSeconds(30), MaxDurationSeconds: 1800);
    private static readonly JobId Id = new(42);
    private static readonly RepoName Repo = new("org", "repo");

    private static readonly JobPhase[] Phases = [JobPhase.New, JobPhase.Claiming, JobPhase.Provisioning, JobPhase.Running, JobPhase.Releasing, JobPhase.Done];

    /// <summary>A job in each phase: VM vm-1 (uid-1), runner 5 "blip-42-a".</summary>
    private static JobState InPhase(JobPhase phase)
    {
        IJobEvent[] path =
        [
            new JobEvents.JobSighted(Id.Value, Repo.FullName, ["self-hosted", "blip"], 7, Now.AddSeconds(-20), Now.AddSeconds(-10)),
            new JobEvents.VmClaimed("vm-1", Now.AddSeconds(-8), "uid-1"),
            new JobEvents.RunnerRegistered(5, "blip-42-a"),
            new JobEvents.RunnerStarted(Now.AddSeconds(-6)),
            new JobEvents.JobFinished(JobOutcome.Completed, "runner finished", Now.AddSeconds(-4)),
            new JobEvents.VmReleased("vm-1", Now.AddSeconds(-3)),
        ];
        var take = phase switch
        {
            JobPhase.New => 0,
            JobPhase.Claiming => 1,
            JobPhase.Provisioning => 3,
            JobPhase.Running => 4,
            JobPhase.Releasing => 5,
            _ => 6,
        };
        var state = path.Take(take).Aggregate(JobState.Empty, (s, e) => s.Apply(e));
        Assert.Equal(phase, state.Phase);
        return state;
    }

    private static JobMemory Memory => JobMemory.Start(Limits, Now.AddSeconds(-1)) with { LastSightingPolledAt = Now.AddSeconds(-1) };

    private static JobInputs.ChildReport Current(object report) => new(report, FromCurrentChild: true);

    private static JobInputs.ChildReport Stale(object report) => new(report, FromCurrentChild: false);

    /// <summary>Each input, and per phase "events | effects" (type names; omitted phase: nothing at all but log lines).</summary>
    private static readonly (string Name, object Input, JobMemory? Memory, Dictionary<JobPhase, string> Expected)[] Table =
    [
        ("sighted by a poll sent now", new JobCommands.Sighted(Id, Repo, ["self-hosted", "blip"], 7, Now.AddSeconds(-20), Now), null, new()
        {
            [JobPhase.New] = "JobSighted |",
            [JobPhase.Done] = "JobSighted |", // our runner finished before this poll, which still sees the job queued
        }),
        ("sighted, queued longer ago than the retention", new JobCommands.Sighted(Id, Repo, ["self-hosted", "blip"], 7, Now.AddHours(-25), Now), null, new()
        {
            [JobPhase.Done] = "JobSighted |", // the tombstone decides: a poll sent after our runner finished
        }),
        ("left the queue (a newer poll)", new JobCommands.LeftQueue(Id, Now), null, new()
        {
            [JobPhase.Claiming] = "JobFinished | StopChild",
            [JobPhase.Running] = "RunnerJobStarted |", // our runner most likely took it: the job started
        }),
        ("left the queue (an older poll)", new JobCommands.LeftQueue(Id, Now.AddSeconds(-5)), null, new()),
        ("VM deleted", new JobCommands.VmStopped(Id, "vm-1", Deleted: true, VmUid: "uid-1"), null, new()
        {
            [JobPhase.Provisioning] = "VmAbandoned | StopChild ReleaseVm",
            [JobPhase.Running] = "JobFinished |",
        }),
        ("VM powered off", new JobCommands.VmStopped(Id, "vm-1", Deleted: false, VmUid: "uid-1"), null, new()
        {
            [JobPhase.Provisioning] = "VmAbandoned JobFinished | StopChild ReleaseVm DeleteUnusedRegistrations",
            [JobPhase.Running] = "JobFinished |",
        }),
        ("another VM of the same name stopped", new JobCommands.VmStopped(Id, "vm-1", Deleted: true, VmUid: "uid-other"), null, new()),
        ("a VM carrying the job's session found", new JobCommands.Reconcile(Id, "vm-9", VmUid: "uid-9"), null, new()
        {
            [JobPhase.New] = "| ReleaseVm",
            [JobPhase.Claiming] = "VmClaimed | StopChild",
            [JobPhase.Provisioning] = "| ReleaseVm",
            [JobPhase.Running] = "| ReleaseVm",
            [JobPhase.Releasing] = "| ReleaseVm",
            [JobPhase.Done] = "| ReleaseVm",
        }),
        ("its own VM found", new JobCommands.Reconcile(Id, "vm-1", VmUid: "uid-1"), null, new()
        {
            [JobPhase.New] = "| ReleaseVm",
            [JobPhase.Claiming] = "VmClaimed | StopChild",
            [JobPhase.Releasing] = "| ReleaseVm",
            [JobPhase.Done] = "| ReleaseVm",
        }),
        ("a VM marked for release found", new JobCommands.Reconcile(Id, "vm-9", VmUid: "uid-9", ReleaseRequested: true), null, new()
        {
            [JobPhase.New] = "| ReleaseVm",
            [JobPhase.Claiming] = "| ReleaseVm",
            [JobPhase.Provisioning] = "| ReleaseVm",
            [JobPhase.Running] = "| ReleaseVm",
            [JobPhase.Releasing] = "| ReleaseVm",
            [JobPhase.Done] = "| ReleaseVm",
        }),
        ("our runner's job completed", new JobCommands.RunnerJobCompleted(Id, "blip-42-a", 43), null, new()
        {
            [JobPhase.Provisioning] = "JobFinished |",
            [JobPhase.Running] = "JobFinished |",
        }),
        ("our runner began running a job", new JobCommands.RunnerJobStarted(Id, "blip-42-a", 43, Now.AddSeconds(-2)), null, new()
        {
            [JobPhase.Provisioning] = "RunnerJobStarted |",
            [JobPhase.Running] = "RunnerJobStarted |",
        }),
        ("another runner began running a job", new JobCommands.RunnerJobStarted(Id, "blip-99-z", 99, Now.AddSeconds(-2)), null, new()),
        ("another runner's job completed", new JobCommands.RunnerJobCompleted(Id, "blip-99-z", 99), null, new()),
        ("forget, finished within the retention", new JobCommands.Forget(Id), null, new()),
        ("forget, finished a retention ago", new JobCommands.Forget(Id), Memory with { Limits = Limits with { JobRetention = TimeSpan.FromSeconds(4) } }, new()
        {
            [JobPhase.Done] = "| DeleteEvents",
        }),
        ("status asked", new JobQueries.GetStatus(Id), null, new()
        {
            [JobPhase.New] = "| Reply", [JobPhase.Claiming] = "| Reply", [JobPhase.Provisioning] = "| Reply",
            [JobPhase.Running] = "| Reply", [JobPhase.Releasing] = "| Reply", [JobPhase.Done] = "| Reply",
        }),
        ("the claimer claimed a VM", Current(new VmClaimer.Claimed("vm-2", Now, "uid-2")), null, new()
        {
            [JobPhase.New] = "| ReleaseVm",
            [JobPhase.Claiming] = "VmClaimed | ForgetChild",
            [JobPhase.Provisioning] = "| ReleaseVm",
            [JobPhase.Running] = "| ReleaseVm",
            [JobPhase.Releasing] = "| ReleaseVm",
            [JobPhase.Done] = "| ReleaseVm",
        }),
        ("a stale claimer claimed a VM", Stale(new VmClaimer.Claimed("vm-2", Now, "uid-2")), null, new()
        {
            [JobPhase.New] = "| ReleaseVm", [JobPhase.Claiming] = "| ReleaseVm", [JobPhase.Provisioning] = "| ReleaseVm",
            [JobPhase.Running] = "| ReleaseVm", [JobPhase.Releasing] = "| ReleaseVm", [JobPhase.Done] = "| ReleaseVm",
        }),
        ("the bootstrapper registered a runner", Current(new RunnerBootstrapper.Registered(6, "blip-42-b")), null, new() { [JobPhase.Provisioning] = "RunnerRegistered |" }),
        ("the bootstrapper started the runner", Current(new RunnerBootstrapper.Started(Now)), null, new() { [JobPhase.Provisioning] = "RunnerStarted | ForgetChild" }),
        ("a stale bootstrapper started a runner", Stale(new RunnerBootstrapper.Started(Now)), null, new()),
        ("GitHub refused the JIT config", Current(new RunnerBootstrapper.JitFailed("HTTP 422")), null, new() { [JobPhase.Provisioning] = "JobFinished | ForgetChild DeleteUnusedRegistrations" }),
        ("the bootstrapper gave the VM up", Current(new RunnerBootstrapper.GaveUpOnVm("ssh refused")), null, new() { [JobPhase.Provisioning] = "VmAbandoned | ForgetChild ReleaseVm" }),
        ("the hard cap", JobInputs.HardCap.Instance, null, new()
        {
            [JobPhase.Provisioning] = "JobFinished | StopChild DeleteRunner DeleteUnusedRegistrations",
            [JobPhase.Running] = "JobFinished | StopChild DeleteRunner",
        }),
        ("sighting check, seen lately", JobInputs.CheckSighting.Instance, null, new()),
        ("sighting check, unseen too long", JobInputs.CheckSighting.Instance, Memory with { LastSightedAt = Now.AddMinutes(-3) }, new() { [JobPhase.Claiming] = "JobFinished | StopChild" }),
        ("runner check within the grace since the runner started", JobInputs.CheckRunner.Instance, null, new()),
        ("runner check while one is in flight", JobInputs.CheckRunner.Instance, Memory with { CheckingRunner = true }, new()),
        ("runner check found the runner gone", new JobInputs.RunnerChecked(5, JobOutcome.Completed, "runner deregistered"), null, new() { [JobPhase.Running] = "JobFinished |" }),
        ("runner check of an earlier cycle's runner", new JobInputs.RunnerChecked(4, JobOutcome.Completed, "runner deregistered"), null, new()),
        ("runner check failed", new JobInputs.RunnerChecked(5, null, "HTTP 502"), null, new()),
        ("start the release", JobInputs.StartRelease.Instance, null, new() { [JobPhase.Releasing] = "| ReleaseOwnVm" }),
        ("start the release while one is in flight", JobInputs.StartRelease.Instance, Memory with { ReleasingVm = true }, new()),
        ("the release succeeded", new JobInputs.ReleaseDone("vm-1", null), null, new() { [JobPhase.Releasing] = "VmReleased |" }),
        ("the release failed", new JobInputs.ReleaseDone("vm-1", "HTTP 500"), null, new() { [JobPhase.Releasing] = "| RetryReleaseAfter" }),
        ("idle", ReceiveTimeout.Instance, null, new() { [JobPhase.New] = "| Passivate", [JobPhase.Done] = "| Passivate" }),
        ("recovered", RecoveryCompleted.Instance, null, new()),
    ];

    public static TheoryData<string, JobPhase> Cells()
    {
        var cells = new TheoryData<string, JobPhase>();
        foreach (var row in Table)
        {
            foreach (var phase in Phases)
            {
                cells.Add(row.Name, phase);
            }
        }

        return cells;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void Every_input_in_every_phase(string input, JobPhase phase)
    {
        var row = Table.Single(r => r.Name == input);

        var decision = InPhase(phase).Decide(row.Input, row.Memory ?? Memory, Now);

        var events = string.Join(" ", decision.Events.Select(e => e.GetType().Name));
        var effects = string.Join(" ", decision.Effects.Where(e => e is not JobEffect.Log).Select(e => e.GetType().Name));
        Assert.Equal(row.Expected.GetValueOrDefault(phase, "|"), $"{events} | {effects}".Trim());
    }

    [Fact]
    public void The_table_has_a_row_for_every_kind_of_input()
    {
        var inputs = typeof(JobCommands).GetNestedTypes().Concat(typeof(JobInputs).GetNestedTypes())
            .Concat([typeof(JobQueries.GetStatus), typeof(ReceiveTimeout), typeof(RecoveryCompleted)])
            .Where(t => !t.IsInterface && !t.IsAbstract);
        var reports = new[] { typeof(VmClaimer.Claimed), typeof(RunnerBootstrapper.Registered), typeof(RunnerBootstrapper.Started), typeof(RunnerBootstrapper.JitFailed), typeof(RunnerBootstrapper.GaveUpOnVm) };
        var covered = Table.Select(r => r.Input is JobInputs.ChildReport c ? c.Report.GetType() : r.Input.GetType()).ToHashSet();

        Assert.Empty(inputs.Concat(reports).Where(t => t != typeof(JobInputs.ChildReport) && !covered.Contains(t)).Select(t => t.FullName));
    }

    [Fact]
    public void Anything_else_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => InPhase(JobPhase.Running).Decide("hello", Memory, Now));
        Assert.Contains("String", e.Message);
    }

    [Fact]
    public void A_sighting_remembers_when_it_was_seen_and_the_newest_poll_behind_it()
    {
        var newer = InPhase(JobPhase.Claiming).Decide(new JobCommands.Sighted(Id, Repo, ["blip"], 7, null, Now.AddSeconds(5)), Memory, Now);
        var older = InPhase(JobPhase.Claiming).Decide(new JobCommands.Sighted(Id, Repo, ["blip"], 7, null, Now.AddSeconds(-30)), Memory, Now);

        Assert.Equal((Now, Now.AddSeconds(5)), (newer.Memory.LastSightedAt, newer.Memory.LastSightingPolledAt));
        Assert.Equal((Now, Memory.LastSightingPolledAt), (older.Memory.LastSightedAt, older.Memory.LastSightingPolledAt));
    }

    [Fact]
    public void Checks_in_flight_are_remembered_until_their_answer()
    {
        var checking = InPhase(JobPhase.Running).Decide(JobInputs.CheckRunner.Instance, Memory, Now.AddSeconds(30)).Memory;
        var releasing = InPhase(JobPhase.Releasing).Decide(JobInputs.StartRelease.Instance, Memory, Now).Memory;

        Assert.True(checking.CheckingRunner);
        Assert.False(InPhase(JobPhase.Running).Decide(new JobInputs.RunnerChecked(5, null, null), checking, Now).Memory.CheckingRunner);
        Assert.False(InPhase(JobPhase.Done).Decide(new JobInputs.RunnerChecked(5, null, null), checking, Now).Memory.CheckingRunner);
        Assert.True(releasing.ReleasingVm);
        Assert.False(InPhase(JobPhase.Releasing).Decide(new JobInputs.ReleaseDone("vm-1", "HTTP 500"), releasing, Now).Memory.ReleasingVm);
    }

    [Fact]
    public void An_idle_runner_is_deleted_by_the_check_only_past_the_grace_since_both_the_last_sighting_and_its_start()
    {
        var running = InPhase(JobPhase.Running); // started 6 s ago
        var recent = running.Decide(JobInputs.CheckRunner.Instance, Memory, Now.AddSeconds(25));
        var later = running.Decide(JobInputs.CheckRunner.Instance, Memory with { LastSightedAt = Now.AddMinutes(-1) }, Now.AddMinutes(1));

        Assert.Equal(new JobEffect.CheckRunner(5, DeleteIfIdle: false), recent.Effects.Single());
        Assert.Equal(new JobEffect.CheckRunner(5, DeleteIfIdle: true), later.Effects.Single());
    }

    [Fact]
    public void A_runner_is_first_checked_once_the_grace_since_its_start_has_passed()
    {
        var running = InPhase(JobPhase.Running); // started 6 s ago; the grace is 30 s

        Assert.Empty(running.Decide(JobInputs.CheckRunner.Instance, Memory, Now.AddSeconds(23)).Effects);
        Assert.Equal(new JobEffect.CheckRunner(5, DeleteIfIdle: false), running.Decide(JobInputs.CheckRunner.Instance, Memory, Now.AddSeconds(24)).Effects.Single());
    }

    [Fact]
    public void Recovery_marks_a_resumed_job_so_its_bootstrapper_sweeps_stale_registrations()
    {
        Assert.False(InPhase(JobPhase.New).Decide(RecoveryCompleted.Instance, Memory, Now).Memory.Recovered);
        Assert.True(InPhase(JobPhase.Provisioning).Decide(RecoveryCompleted.Instance, Memory, Now).Memory.Recovered);
    }

    [Fact]
    public void The_runner_start_logs_the_pickup_latency_from_the_queue_time()
    {
        var decision = InPhase(JobPhase.Provisioning).Decide(Current(new RunnerBootstrapper.Started(Now)), Memory, Now);

        var line = Assert.Single(decision.Effects.OfType<JobEffect.Log>());
        Assert.Equal("job 42 (org/repo): runner blip-42-a running on VM vm-1; pickup latency 20.0 s", line.Message);
    }
}
