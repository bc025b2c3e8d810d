using Akka.Actor;
using Blip.Actors.Jobs;

namespace Blip.Actors.Inspection;

/// <summary>Turns the job events published on this node's EventStream into <see cref="BlipMetrics"/> counts.</summary>
public sealed class JobMetricsListener : ReceiveActor
{
    public JobMetricsListener(BlipMetrics metrics)
    {
        Receive<JobEventPublished>(m => metrics.OnJobEvent(m.Event, m.State));
        ReceiveAny(Unhandled);
    }

    public static Props Props(BlipMetrics metrics) => Akka.Actor.Props.Create(() => new JobMetricsListener(metrics));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(JobEventPublished));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
