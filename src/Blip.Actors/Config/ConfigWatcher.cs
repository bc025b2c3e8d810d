using Akka.Actor;
using Akka.Event;
using Blip.Actors.Shared;

namespace Blip.Actors.Config;

/// <summary>
/// The config actor: follows Secrets <c>github-pat</c>, <c>github-app</c>, <c>ssh-gateway-client-key</c>,
/// <c>github-webhook</c>, ConfigMap <c>github-actions</c> and the CA bundle <c>github-ca</c> (Secret or ConfigMap); keeps <see cref="ControllerSecrets"/> current; broadcasts immutable
/// <see cref="ConfigProtocol.SettingsChanged"/> to subscribers; logs the spec's troubleshooting lines once per change.
/// </summary>
public sealed class ConfigWatcher : ReceiveActor
{
    private readonly IConfigSource _source;
    private readonly ControllerSecrets _secrets;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<IActorRef> _subscribers = [];
    private readonly HashSet<string> _listed = [];
    private readonly CancellationTokenSource _stop = new();

    private IReadOnlyDictionary<string, string>? _configMapData;
    private bool _configMapSeen;
    private bool _patSeen;
    private bool _appSeen;
    private ConfigProtocol.SettingsChanged _current = new(null, false, false);
    private ActionsConfig? _lastGood;
    private string? _lastStatusLine;
    private string? _lastAppLine;
    private string? _lastCaLine;
    private byte[]? _caFromSecret;
    private byte[]? _caFromConfigMap;

    public ConfigWatcher(IConfigSource source, ControllerSecrets secrets)
    {
        _source = source;
        _secrets = secrets;

        Receive<ConfigObjectChange.ConfigMapSeen>(m => m.Name == ActionsConfig.ConfigMapName, m =>
        {
            _configMapSeen = true;
            if (!SameData(_configMapData, m.Data))
            {
                _configMapData = m.Data;
                Recompute(logProblems: true);
            }
        });
        Receive<ConfigObjectChange.SecretSeen>(m => m.Name == GitHubToken.SecretName, m =>
        {
            _patSeen = true;
            var token = GitHubToken.FromSecretValue(m.Data?.GetValueOrDefault(GitHubToken.TokenKey));
            if (!Equals(token, _secrets.GitHubToken))
            {
                _secrets.GitHubToken = token;
                if (token is not null && _current.HasPat)
                {
                    _log.Info("Secret {0}: PAT rotated (now {1}); used from the next GitHub call", GitHubToken.SecretName, token);
                }
            }

            Recompute(logProblems: false);
        });
        Receive<ConfigObjectChange.SecretSeen>(m => m.Name == GitHubAppCredentials.SecretName, m =>
        {
            _appSeen = true;
            OnAppSecret(GitHubAppCredentials.Read(m.Data));
            Recompute(logProblems: false);
        });
        Receive<ConfigObjectChange.SecretSeen>(m => m.Name == GitHubCaBundle.ObjectName, m =>
        {
            _caFromSecret = m.Data?.GetValueOrDefault(GitHubCaBundle.Key);
            OnCaChanged();
        });
        Receive<ConfigObjectChange.ConfigMapSeen>(m => m.Name == GitHubCaBundle.ObjectName, m =>
        {
            _caFromConfigMap = m.Data?.GetValueOrDefault(GitHubCaBundle.Key) is { } pem ? System.Text.Encoding.UTF8.GetBytes(pem) : null;
            OnCaChanged();
        });
        Receive<ConfigObjectChange.SecretSeen>(m => m.Name == ControllerSecrets.SshKeySecretName, m =>
        {
            var key = m.Data?.GetValueOrDefault(ControllerSecrets.SshKeyKey);
            var had = _secrets.SshClientKey is not null;
            _secrets.SshClientKey = key is { Length: > 0 } ? key : null;
            if (had != (_secrets.SshClientKey is not null))
            {
                if (_secrets.SshClientKey is null)
                {
                    _log.Warning("Secret {0} missing or has no {1}: runners cannot be started over SSH", ControllerSecrets.SshKeySecretName, ControllerSecrets.SshKeyKey);
                }
                else
                {
                    _log.Info("Secret {0}: SSH client key loaded", ControllerSecrets.SshKeySecretName);
                }
            }
        });
        Receive<ConfigObjectChange.SecretSeen>(m => m.Name == ControllerSecrets.WebhookSecretName, m =>
        {
            var secret = m.Data?.GetValueOrDefault(ControllerSecrets.WebhookSecretKey);
            var had = _secrets.WebhookSecret is not null;
            _secrets.WebhookSecret = secret is { Length: > 0 } ? secret : null;
            if (had != (_secrets.WebhookSecret is not null))
            {
                _log.Info("Secret {0}: webhook secret {1}", ControllerSecrets.WebhookSecretName, _secrets.WebhookSecret is null ? "removed; deliveries are refused" : "loaded");
            }
        });
        Receive<ConfigObjectChange.Listed>(m =>
        {
            _listed.Add(m.Kind);
            Recompute(logProblems: false);
        });
        Receive<ConfigProtocol.Subscribe>(m =>
        {
            _subscribers.Add(m.Subscriber);
            Context.Watch(m.Subscriber);
            m.Subscriber.Tell(_current);
        });
        Receive<ConfigProtocol.Unsubscribe>(m =>
        {
            _subscribers.Remove(m.Subscriber);
            Context.Unwatch(m.Subscriber);
        });
        Receive<Terminated>(t =>
        {
            _subscribers.Remove(t.ActorRef);
        });
        Receive<ConfigProtocol.GetSettings>(_ => Sender.Tell(_current));
        Receive<WatchPump.Ended>(_ =>
        {
            if (!_stop.IsCancellationRequested)
            {
                _log.Warning("config watch ended unexpectedly; restarting it");
                StartWatching();
            }
        });
        ReceiveAny(Unhandled);
    }

    public static Props Props(IConfigSource source, ControllerSecrets secrets) =>
        Akka.Actor.Props.Create(() => new ConfigWatcher(source, secrets));

    protected override void PreStart() => StartWatching();

    protected override void PostStop() => _stop.Cancel();

    private void StartWatching() => WatchPump.Start(_source.WatchAsync, Self, _stop.Token);

    /// <summary>One line per change of the App Secret: loaded, rotated, removed, or broken (naming the key, never its value).</summary>
    private void OnAppSecret(GitHubAppReading reading)
    {
        var before = _secrets.GitHubApp;
        if (!Equals(reading.App, before))
        {
            _secrets.GitHubApp = reading.App;
        }

        string? line = reading switch
        {
            { Error: { } error } => error,
            { App: { } app } when before is null => $"Secret {GitHubAppCredentials.SecretName}: authenticating as {app}; used from the next GitHub call",
            { App: { } app } when !app.Equals(before) => $"Secret {GitHubAppCredentials.SecretName}: rotated (now {app}); used from the next GitHub call",
            { App: null, Error: null } when before is not null => $"Secret {GitHubAppCredentials.SecretName} removed: GitHub calls use the PAT of Secret {GitHubToken.SecretName}",
            _ => null,
        };
        if (line is null || line == _lastAppLine)
        {
            return;
        }

        _lastAppLine = line;
        if (reading.Error is not null)
        {
            _log.Error(line);
        }
        else
        {
            _log.Info(line);
        }
    }

    private void OnCaChanged()
    {
        var (bundle, error) = GitHubCaBundle.Read(("Secret", _caFromSecret), ("ConfigMap", _caFromConfigMap));
        _secrets.GitHubCa = bundle;
        var line = error ?? (bundle is null
            ? $"{GitHubCaBundle.ObjectName}: no extra CA; GitHub's certificate must chain to a system root"
            : $"{GitHubCaBundle.ObjectName}: trusting {bundle} for GitHub in addition to the system roots");
        if (line == _lastCaLine || (_lastCaLine is null && bundle is null && error is null))
        {
            return;
        }

        _lastCaLine = line;
        if (error is not null)
        {
            _log.Error(line);
        }
        else
        {
            _log.Info(line);
        }
    }

    private void Recompute(bool logProblems)
    {
        var parsed = _configMapData is null
            ? new ActionsConfigParseResult(null, [], $"ConfigMap {ActionsConfig.ConfigMapName} not found")
            : ActionsConfig.Parse(_configMapData.GetValueOrDefault(ActionsConfig.RunnerLabelsKey), _configMapData.GetValueOrDefault(ActionsConfig.ReposKey));
        parsed = WithPools(parsed, logProblems);

        if (logProblems)
        {
            foreach (var problem in parsed.Problems)
            {
                _log.Warning("ConfigMap {0}: {1}; ignored, the valid repos are still polled", ActionsConfig.ConfigMapName, problem);
            }
        }

        var synced = _listed.Count == 2;
        var next = new ConfigProtocol.SettingsChanged(parsed.Config, _secrets.GitHubToken is not null, synced, _secrets.GitHubApp is not null);
        LogStatus(parsed, next);
        if (next == _current)
        {
            return;
        }

        _current = next;
        foreach (var subscriber in _subscribers)
        {
            subscriber.Tell(next);
        }
    }

    /// <summary>
    /// Adds the routes of key <c>pools</c>. A bad value is one error line (once per change of the ConfigMap) and the last good
    /// configuration stays in force: routing half the jobs by a broken value could put them on the wrong VM size. With no
    /// good configuration yet, polling waits for a good value.
    /// </summary>
    private ActionsConfigParseResult WithPools(ActionsConfigParseResult parsed, bool logProblems)
    {
        if (parsed.Config is null)
        {
            return parsed;
        }

        var pools = PoolRoutes.Parse(_configMapData?.GetValueOrDefault(PoolRoutes.Key), parsed.Config.RunnerLabels);
        if (pools.Routes is { } routes)
        {
            _lastGood = parsed.Config with { Pools = routes };
            return parsed with { Config = _lastGood };
        }

        if (logProblems)
        {
            _log.Error("{0}; {1}", pools.Error!, _lastGood is null ? "polling waits for a valid value" : "keeping the last good configuration");
        }

        return parsed with { Config = _lastGood, Incomplete = _lastGood is null ? $"key {PoolRoutes.Key} is invalid" : null };
    }

    /// <summary>One line per change of status, never on every event (the spec's troubleshooting lines).</summary>
    private void LogStatus(ActionsConfigParseResult parsed, ConfigProtocol.SettingsChanged next)
    {
        if (!next.Synced && !(_configMapSeen && _patSeen && _appSeen))
        {
            return;
        }

        string line;
        if (!next.HasCredential)
        {
            line = $"no PAT available: Secret {GitHubToken.SecretName} is missing or has no '{GitHubToken.TokenKey}' key (and Secret {GitHubAppCredentials.SecretName} holds no usable GitHub App); polling stopped";
        }
        else if (next.Config is null)
        {
            line = $"actions config incomplete: {parsed.Incomplete}; polling stopped";
        }
        else
        {
            line = $"actions config ready ({(next.HasApp ? "GitHub App" : "PAT")}): runner-labels [{string.Join(",", next.Config.RunnerLabels)}], {next.Config.Repos.Length} repo(s) [{string.Join(",", next.Config.Repos.Take(20))}{(next.Config.Repos.Length > 20 ? ",…" : "")}]" +
                   (next.Config.Pools.IsEmpty ? "" : $", pools [{next.Config.Pools}]");
        }

        if (line == _lastStatusLine)
        {
            return;
        }

        _lastStatusLine = line;
        if (next.CanPoll)
        {
            _log.Info(line);
        }
        else
        {
            _log.Warning(line);
        }

        // Both can be true at once; the PAT line above wins, so also say the config is incomplete.
        if (!next.HasCredential && next.Config is null)
        {
            _log.Warning("actions config incomplete: {0}", parsed.Incomplete ?? "");
        }
    }

    private static bool SameData(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
