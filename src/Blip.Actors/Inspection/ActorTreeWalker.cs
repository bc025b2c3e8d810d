using Akka.Actor;

namespace Blip.Actors.Inspection;

/// <summary>
/// Walks the actor tree below a path, level by level, with <c>ActorSelection(path/*)</c> and <see cref="Identify"/>:
/// a wildcard selection answers once per child and not at all when there is none, so each level ends after a
/// quiet spell. Replies the sorted absolute paths (<see cref="ActorTreeView"/>) and stops.
/// </summary>
public sealed class ActorTreeWalker : ReceiveActor, IWithTimers
{
    private const string QuietTimer = "quiet";
    private const string LevelCapTimer = "level-cap";
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);
    // How long a level may stay silent before it counts as childless: long enough for a loaded node to answer the
    // first Identify (1 s left `/user` empty on a shared CI machine), short enough for an interactive command.
    public static readonly TimeSpan LevelCap = TimeSpan.FromSeconds(3);

    private readonly string _root;
    private readonly int _depth;
    private readonly SortedSet<string> _paths = new(StringComparer.Ordinal);
    private List<string> _frontier = [];
    private List<string> _next = [];
    private IActorRef _replyTo = ActorRefs.Nobody;
    private int _level;

    public ActorTreeWalker(string root, int depth)
    {
        _root = root;
        _depth = depth;

        Receive<Walk>(_ =>
        {
            _replyTo = Sender;
            _frontier = _root == "/" ? ["/user", "/system"] : [_root];
            if (_root == "/")
            {
                _paths.UnionWith(_frontier);
                _level = 1;
            }
            else
            {
                _paths.Add(_root);
            }

            StartLevel();
        });
        Receive<ActorIdentity>(m =>
        {
            if (m.MessageId is int level && level == _level && m.Subject is { } subject && !subject.Equals(Self))
            {
                var path = subject.Path.ToStringWithoutAddress();
                if (_paths.Add(path))
                {
                    _next.Add(path);
                }

                Timers.StartSingleTimer(QuietTimer, LevelDone.Instance, Quiet);
            }
        });
        Receive<LevelDone>(_ =>
        {
            Timers.CancelAll();
            _frontier = _next;
            _next = [];
            if (_level >= _depth || _frontier.Count == 0)
            {
                _replyTo.Tell(new ActorTreeView(_root, _depth, _paths.ToList()));
                Context.Stop(Self);
                return;
            }

            StartLevel();
        });
        ReceiveAny(Unhandled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string root, int depth) => Akka.Actor.Props.Create(() => new ActorTreeWalker(root, depth));

    private void StartLevel()
    {
        _level++;
        foreach (var path in _frontier)
        {
            Context.ActorSelection(path.TrimEnd('/') + "/*").Tell(new Identify(_level), Self);
        }

        Timers.StartSingleTimer(QuietTimer, LevelDone.Instance, Quiet);
        Timers.StartSingleTimer(LevelCapTimer, LevelDone.Instance, LevelCap);
    }

    /// <summary>Start walking; the reply is an <see cref="ActorTreeView"/>.</summary>
    public sealed class Walk
    {
        public static readonly Walk Instance = new();

        private Walk()
        {
        }
    }

    private sealed class LevelDone : INoSerializationVerificationNeeded
    {
        public static readonly LevelDone Instance = new();
    }
}
