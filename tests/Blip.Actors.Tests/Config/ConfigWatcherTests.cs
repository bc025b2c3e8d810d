using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Blip.Actors.Config;

namespace Blip.Actors.Tests.Config;

/// <summary>The config actor fed by a scripted <see cref="IConfigSource"/>; a probe subscribes to its settings.</summary>
public sealed class ConfigWatcherTests : TestKit
{
    private const string Pat = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly ScriptedSource _source = new();
    private readonly ControllerSecrets _secrets = new();
    private readonly Akka.TestKit.TestProbe _subscriber;
    private readonly IActorRef _watcher;

    public ConfigWatcherTests()
    {
        _subscriber = CreateTestProbe();
        _watcher = Sys.ActorOf(ConfigWatcher.Props(_source, _secrets));
        _watcher.Tell(new ConfigProtocol.Subscribe(_subscriber.Ref));
    }

    private static ConfigObjectChange ConfigMap(string labels, string repos) =>
        new ConfigObjectChange.ConfigMapSeen(ActionsConfig.ConfigMapName, new Dictionary<string, string> { [ActionsConfig.RunnerLabelsKey] = labels, [ActionsConfig.ReposKey] = repos });

    private static ConfigObjectChange PatSecret(string? token) =>
        new ConfigObjectChange.SecretSeen(GitHubToken.SecretName, token is null ? null : new Dictionary<string, byte[]> { [GitHubToken.TokenKey] = Encoding.UTF8.GetBytes(token) });

    /// <summary>Both objects present and both watches listed: the settings that let polling run.</summary>
    private async Task<ConfigProtocol.SettingsChanged> ReadyAsync()
    {
        Assert.Equal(new ConfigProtocol.SettingsChanged(null, false, false), await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>());
        _source.Send(ConfigMap("self-hosted,blip", "org/repo"), PatSecret(Pat), new ConfigObjectChange.Listed("configmaps"), new ConfigObjectChange.Listed("secrets"));
        return await _subscriber.FishForMessageAsync<ConfigProtocol.SettingsChanged>(s => s.Synced);
    }

    [Fact]
    public async Task A_subscriber_gets_the_settings_at_once_and_then_each_change()
    {
        var ready = await ReadyAsync();

        Assert.True(ready.CanPoll);
        Assert.Equal(["self-hosted", "blip"], ready.Config!.RunnerLabels.ToArray());
        Assert.Equal(["org/repo"], ready.Config.Repos.Select(r => r.FullName));
        Assert.Equal(Pat, _secrets.GitHubToken!.Value);
    }

    [Fact]
    public async Task The_pat_deleted_stops_polling_and_restored_starts_it_again()
    {
        await ReadyAsync();

        _source.Send(PatSecret(null));
        var gone = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();
        _source.Send(PatSecret(Pat));
        var back = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();

        Assert.False(gone.HasPat);
        Assert.False(gone.CanPoll);
        Assert.True(back.CanPoll);
    }

    [Fact]
    public async Task The_same_configmap_seen_again_broadcasts_nothing()
    {
        await ReadyAsync();

        // The repeat comes first, a real change after it: the next broadcast must be the change's.
        _source.Send(ConfigMap("self-hosted,blip", "org/repo"), ConfigMap("self-hosted,blip", "org/repo,org/two"));

        var next = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();
        Assert.Equal(["org/repo", "org/two"], next.Config!.Repos.Select(r => r.FullName));
    }

    [Fact]
    public async Task A_rotated_pat_is_in_the_secrets_for_the_next_call_without_a_broadcast()
    {
        await ReadyAsync();
        const string rotated = "ghp_zyxwvutsrqponmlkjihgfedcba9876543210";

        // A rotation changes no setting; the ConfigMap change after it is the next broadcast.
        _source.Send(PatSecret(rotated), ConfigMap("self-hosted,blip", "org/other"));

        var next = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();
        Assert.Equal(["org/other"], next.Config!.Repos.Select(r => r.FullName));
        Assert.Equal(rotated, _secrets.GitHubToken!.Value);
    }

    [Fact]
    public async Task The_ssh_key_and_webhook_secret_are_kept_current_in_memory()
    {
        await ReadyAsync();

        _source.Send(
            new ConfigObjectChange.SecretSeen(ControllerSecrets.SshKeySecretName, new Dictionary<string, byte[]> { [ControllerSecrets.SshKeyKey] = [1, 2, 3] }),
            new ConfigObjectChange.SecretSeen(ControllerSecrets.WebhookSecretName, new Dictionary<string, byte[]> { [ControllerSecrets.WebhookSecretKey] = [4, 5] }));
        await AwaitConditionAsync(() => Task.FromResult(_secrets.SshClientKey is not null && _secrets.WebhookSecret is not null), TimeSpan.FromSeconds(30));
        _source.Send(new ConfigObjectChange.SecretSeen(ControllerSecrets.WebhookSecretName, null));

        await AwaitConditionAsync(() => Task.FromResult(_secrets.WebhookSecret is null), TimeSpan.FromSeconds(30));
        Assert.Equal([1, 2, 3], _secrets.SshClientKey);
    }

    [Fact]
    public async Task A_watch_that_ends_is_started_again()
    {
        await ReadyAsync();

        _source.EndCurrentWatch();
        await AwaitConditionAsync(() => Task.FromResult(_source.Watches == 2), TimeSpan.FromSeconds(30));
        _source.Send(ConfigMap("self-hosted,blip", "org/after"));

        var next = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();
        Assert.Equal(["org/after"], next.Config!.Repos.Select(r => r.FullName));
    }

    [Fact]
    public async Task GetSettings_answers_the_current_settings()
    {
        var ready = await ReadyAsync();

        Assert.Equal(ready, await _watcher.Ask<ConfigProtocol.SettingsChanged>(ConfigProtocol.GetSettings.Instance, TimeSpan.FromSeconds(10)));
    }

    private static ConfigObjectChange AppSecret(string appId, string privateKey) =>
        new ConfigObjectChange.SecretSeen(GitHubAppCredentials.SecretName, new Dictionary<string, byte[]>
        {
            [GitHubAppCredentials.AppIdKey] = Encoding.UTF8.GetBytes(appId),
            [GitHubAppCredentials.PrivateKeyKey] = Encoding.UTF8.GetBytes(privateKey),
        });

    [Fact]
    public async Task A_github_app_alone_lets_polling_run_without_a_pat()
    {
        Assert.Equal(new ConfigProtocol.SettingsChanged(null, false, false), await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>());
        using var rsa = System.Security.Cryptography.RSA.Create(2048);

        _source.Send(ConfigMap("self-hosted,blip", "org/repo"), AppSecret("123", rsa.ExportRSAPrivateKeyPem()), new ConfigObjectChange.Listed("configmaps"), new ConfigObjectChange.Listed("secrets"));

        var ready = await _subscriber.FishForMessageAsync<ConfigProtocol.SettingsChanged>(s => s.Synced);
        Assert.True(ready.HasApp);
        Assert.False(ready.HasPat);
        Assert.True(ready.CanPoll);
        Assert.Equal("123", _secrets.GitHubApp!.AppId);
    }

    [Fact]
    public async Task A_broken_app_secret_is_one_error_naming_the_key_and_the_pat_keeps_working()
    {
        await ReadyAsync();
        const string notAKey = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END RSA PRIVATE KEY-----";

        await EventFilter.Error(contains: "Secret github-app: key 'private-key'").ExpectOneAsync(async () =>
        {
            _source.Send(AppSecret("123", notAKey), AppSecret("123", notAKey));
            _source.Send(ConfigMap("self-hosted,blip", "org/other"));
            var next = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();
            Assert.True(next.CanPoll);
            Assert.False(next.HasApp);
        });

        Assert.Null(_secrets.GitHubApp);
        Assert.Equal(Pat, _secrets.GitHubToken!.Value);
    }

    [Fact]
    public async Task The_ca_bundle_of_github_ca_is_kept_current_and_a_broken_one_is_one_error()
    {
        await ReadyAsync();
        using var key = System.Security.Cryptography.ECDsa.Create();
        using var ca = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=corp-ca", key, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));

        _source.Send(new ConfigObjectChange.ConfigMapSeen(GitHubCaBundle.ObjectName, new Dictionary<string, string> { [GitHubCaBundle.Key] = ca.ExportCertificatePem() }));
        await AwaitConditionAsync(() => Task.FromResult(_secrets.GitHubCa is not null), TimeSpan.FromSeconds(30));
        Assert.Equal(ca.Thumbprint, Assert.Single(_secrets.GitHubCa!.Certificates).Thumbprint);

        var broken = new ConfigObjectChange.SecretSeen(GitHubCaBundle.ObjectName, new Dictionary<string, byte[]> { [GitHubCaBundle.Key] = "not pem"u8.ToArray() });
        await EventFilter.Error(contains: "Secret github-ca: key 'ca.crt'").ExpectOneAsync(async () =>
        {
            _source.Send(broken, broken);
            await AwaitConditionAsync(() => Task.FromResult(_secrets.GitHubCa is null), TimeSpan.FromSeconds(30));
        });
    }

    /// <summary>Hands the watcher what the test sends, one watch at a time; a watch can be ended as the server would.</summary>
    private static ConfigObjectChange ConfigMapWithPools(string repos, string pools) =>
        new ConfigObjectChange.ConfigMapSeen(ActionsConfig.ConfigMapName, new Dictionary<string, string>
        {
            [ActionsConfig.RunnerLabelsKey] = "self-hosted,blip",
            [ActionsConfig.ReposKey] = repos,
            [PoolRoutes.Key] = pools,
        });

    [Fact]
    public async Task Routing_key_pools_reaches_the_subscribers()
    {
        await ReadyAsync();

        _source.Send(ConfigMapWithPools("org/repo", "large=blip-large"));
        var next = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();

        Assert.Equal(new Dictionary<string, string> { ["large"] = "blip-large" }, next.Config!.Pools.PoolByLabel);
    }

    [Fact]
    public async Task Routing_key_pools_bad_is_one_error_line_and_the_last_good_configuration_stays()
    {
        await ReadyAsync();
        _source.Send(ConfigMapWithPools("org/repo", "large=blip-large"));
        var good = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();

        await EventFilter.Error(
                message: "ConfigMap github-actions: key pools: entry \"large:blip-huge\" is not one label=pool pair; " +
                         "write label=pool entries separated by commas, e.g. pools: \"large=blip-large,gpu=blip-gpu\"; keeping the last good configuration")
            .ExpectOneAsync(async () =>
            {
                _source.Send(ConfigMapWithPools("org/other", "large:blip-huge"));
                // The new repo list comes with the bad value: none of it applies.
                await _subscriber.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
            });
        Assert.Equal(good, await _watcher.Ask<ConfigProtocol.SettingsChanged>(ConfigProtocol.GetSettings.Instance, TimeSpan.FromSeconds(10)));

        _source.Send(ConfigMapWithPools("org/other", "large=blip-huge"));
        var fixedUp = await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>();
        Assert.Equal(("org/other", "blip-huge"), (fixedUp.Config!.Repos.Single().FullName, fixedUp.Config.Pools.PoolByLabel["large"]));
    }

    [Fact]
    public async Task Routing_key_pools_bad_before_any_good_configuration_stops_polling()
    {
        Assert.Equal(new ConfigProtocol.SettingsChanged(null, false, false), await _subscriber.ExpectMsgAsync<ConfigProtocol.SettingsChanged>());

        await EventFilter.Error(contains: "key pools: entry \"blip=blip-large\" routes \"blip\", which is one of runner-labels").ExpectOneAsync(async () =>
        {
            _source.Send(ConfigMapWithPools("org/repo", "blip=blip-large"), PatSecret(Pat), new ConfigObjectChange.Listed("configmaps"), new ConfigObjectChange.Listed("secrets"));
            var settings = await _subscriber.FishForMessageAsync<ConfigProtocol.SettingsChanged>(s => s.Synced);
            Assert.False(settings.CanPoll);
        });
    }

    private sealed class ScriptedSource : IConfigSource
    {
        private Channel<ConfigObjectChange> _current = Channel.CreateUnbounded<ConfigObjectChange>();
        private int _watches;

        public int Watches => Volatile.Read(ref _watches);

        public void Send(params ConfigObjectChange[] changes)
        {
            foreach (var change in changes)
            {
                Volatile.Read(ref _current).Writer.TryWrite(change);
            }
        }

        public void EndCurrentWatch()
        {
            var ended = Interlocked.Exchange(ref _current, Channel.CreateUnbounded<ConfigObjectChange>());
            ended.Writer.TryComplete();
        }

        public IAsyncEnumerable<ConfigObjectChange> WatchAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref _watches);
            return Volatile.Read(ref _current).Reader.ReadAllAsync(ct);
        }
    }
}
