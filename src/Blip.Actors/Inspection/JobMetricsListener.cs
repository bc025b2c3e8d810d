using Akka.Actor;
using Blip.Actors.Jobs;
using Blip.Actors.Runners;

namespace Blip.Actors.Inspection;

/// <summary>Turns the job events, waiting-job and runner-currency assessments published on this node's EventStream into <see cref="BlipMetrics"/>.</summary>
public sealed class JobMetricsListener : ReceiveActor
{
    public JobMetricsListener(BlipMetrics metrics)
    {
        Receive<JobEventPublished>(m => metrics.OnJobEvent(m.Event, m.State));
        Receive<WaitingJobsAssessed>(metrics.OnWaitingJobs);
        Receive<RunnerReleaseEvents.CurrencyAssessed>(metrics.OnRunnerCurrency);
        ReceiveAny(Unhandled);
    }

    public static Props Props(BlipMetrics metrics) => Akka.Actor.Props.Create(() => new JobMetricsListener(metrics));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(JobEventPublished));
        Context.System.EventStream.Subscribe(Self, typeof(WaitingJobsAssessed));
        Context.System.EventStream.Subscribe(Self, typeof(RunnerReleaseEvents.CurrencyAssessed));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
