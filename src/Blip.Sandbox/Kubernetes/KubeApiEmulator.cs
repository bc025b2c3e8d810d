using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blip.Sandbox.Kubernetes;

/// <summary>
/// A Kubernetes API server on loopback HTTPS, good enough for KubernetesClient and kubectl: core/v1
/// namespaces, configmaps, secrets, events; events.k8s.io/v1 events; kubevirt.io/v1 virtualmachines and
/// virtualmachineinstances. Bearer tokens: the admin token may do anything, the controller token is
/// held to the Role in k8s/rbac.yaml. State lives in <see cref="Store"/>.
/// </summary>
public sealed class KubeApiEmulator : IAsyncDisposable
{
    public const string AdminUser = "admin";
    public const string ControllerAuditUser = "controller";

    private readonly WebApplication _app;
    private readonly ServingCertificates _certificates;
    private readonly KubeApiEmulatorOptions _options;
    private readonly Rbac _rbac;
    private readonly Dictionary<string, (string User, string AuditName)> _tokens;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, long> _byVerb = new();
    private readonly ConcurrentDictionary<string, long> _byResource = new();
    private long _total;
    private int _openWatches;

    private KubeApiEmulator(WebApplication app, ServingCertificates certificates, KubeApiEmulatorOptions options, Rbac rbac)
    {
        _app = app;
        _certificates = certificates;
        _options = options;
        _rbac = rbac;
        Store = new KubeStore(options.WatchHistory, options.Namespaces);
        AdminToken = options.AdminToken ?? NewToken();
        ControllerToken = options.ControllerToken ?? NewToken();
        _tokens = new Dictionary<string, (string, string)>
        {
            [AdminToken] = (AdminUser, AdminUser),
            [ControllerToken] = (options.ControllerUser, ControllerAuditUser),
        };
    }

    public KubeStore Store { get; }
    public KubeFaults Faults { get; } = new();
    public Uri Url { get; private set; } = null!;
    public string AdminToken { get; }
    public string ControllerToken { get; }
    public string CaCertificatePem => _certificates.CaPem;
    public int OpenWatches => Volatile.Read(ref _openWatches);

    public static async Task<KubeApiEmulator> StartAsync(KubeApiEmulatorOptions options, CancellationToken ct = default)
    {
        var rbac = options.RbacYaml is null ? Rbac.FromEmbeddedManifest() : Rbac.Parse(options.RbacYaml);
        var certificates = ServingCertificates.Create(options.Address);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(options.Address, options.Port, listen => listen.UseHttps(certificates.Server));
        });
        var app = builder.Build();
        var emulator = new KubeApiEmulator(app, certificates, options, rbac);
        emulator.MapRoutes();
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        emulator.Url = new Uri($"https://{FormatHost(options.Address)}:{port}/");
        return emulator;
    }

    /// <summary>Writes a kubeconfig for this server (admin token unless another is given), namespace blip; returns the path.</summary>
    public string WriteKubeconfig(string path, string? token = null)
    {
        var ca = Convert.ToBase64String(Encoding.ASCII.GetBytes(CaCertificatePem));
        var ns = _options.Namespaces.FirstOrDefault() ?? "default";
        var yaml = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: blip-sandbox
              cluster:
                server: {Url.GetLeftPart(UriPartial.Authority)}
                certificate-authority-data: {ca}
            users:
            - name: blip-sandbox-user
              user:
                token: {token ?? AdminToken}
            contexts:
            - name: blip-sandbox
              context:
                cluster: blip-sandbox
                user: blip-sandbox-user
                namespace: {ns}
            current-context: blip-sandbox

            """;
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, yaml);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <summary>A KubernetesClient that trusts this server's CA and sends the token (admin unless given).</summary>
    public k8s.Kubernetes CreateClient(string? token = null)
    {
        var config = new k8s.KubernetesClientConfiguration
        {
            Host = Url.GetLeftPart(UriPartial.Authority),
            AccessToken = token ?? AdminToken,
            SslCaCerts = [System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(_certificates.Ca.RawData)],
            Namespace = _options.Namespaces.FirstOrDefault(),
        };
        return new k8s.Kubernetes(config);
    }

    /// <summary>A plain HttpClient on this server (its CA trusted, the token sent; admin unless given): for the
    /// sandbox admin API under <c>/_sandbox/</c>.</summary>
    public HttpClient CreateHttpClient(string? token = null)
    {
        var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(_certificates.Ca.RawData);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(cert!);
            },
        };
        var http = new HttpClient(handler) { BaseAddress = Url };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token ?? AdminToken);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Store.CloseAllWatches();
        try
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stopTimeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
            _certificates.Dispose();
            _stopping.Dispose();
        }
    }

    private void MapRoutes()
    {
        _app.MapGet("/version", () => Json(Discovery.Version()));
        foreach (var probe in new[] { "/healthz", "/readyz", "/livez" })
            _app.MapGet(probe, () => Results.Text("ok"));
        _app.Map("/{**path}", HandleAsync);
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            var path = ctx.Request.Path.Value?.TrimEnd('/') ?? "";
            var identity = Authenticate(ctx);
            if (identity is null)
            {
                await WriteJson(ctx, 401, KubeStatus.Failure(401, "Unauthorized", "Unauthorized"));
                return;
            }
            var (user, auditName) = identity.Value;
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);

            if (segments.Length > 0 && segments[0] == "_sandbox")
            {
                await HandleSandboxAsync(ctx, segments, user);
                return;
            }
            if (await TryDiscoveryAsync(ctx, segments)) return;

            if (!TryParseResourcePath(segments, out var resource, out var ns, out var name, out var subresource))
            {
                await WriteJson(ctx, 404, KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"));
                return;
            }
            await HandleResourceAsync(ctx, resource, ns, name, subresource, user, auditName);
        }
        catch (KubeApiException e)
        {
            if (!ctx.Response.HasStarted) await WriteJson(ctx, e.Code, e.ToStatus());
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
        }
    }

    private (string User, string AuditName)? Authenticate(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)) return null;
        var token = header[bearer.Length..].Trim();
        foreach (var (known, identity) in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(known), Encoding.UTF8.GetBytes(token))) return identity;
        }
        return null;
    }

    private async Task<bool> TryDiscoveryAsync(HttpContext ctx, string[] s)
    {
        if (!HttpMethods.IsGet(ctx.Request.Method)) return false;
        JsonObject? body = s switch
        {
            ["api"] => Discovery.ApiVersions($"{Url.Host}:{Url.Port}"),
            ["apis"] => Discovery.ApiGroupList(),
            ["api", var v] => Discovery.ApiResourceList("", v),
            ["apis", var g] when Discovery.Groups().Contains(g) => Discovery.ApiGroup(g),
            ["apis", var g, var v] => Discovery.ApiResourceList(g, v),
            ["openapi", "v3"] => Discovery.OpenApiIndex(),
            ["openapi", "v3", .. var rest] => Discovery.OpenApiDocument(string.Join('/', rest)),
            ["openapi", "v2"] => KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"),
            _ => null,
        };
        if (body is null)
        {
            if (s is ["api", _] or ["apis", _, _] or ["openapi", "v3", ..])
            {
                await WriteJson(ctx, 404, KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"));
                return true;
            }
            return false;
        }
        await WriteJson(ctx, body["kind"]?.ToString() == "Status" ? 404 : 200, body);
        return true;
    }

    private static bool TryParseResourcePath(string[] s, out KubeResource resource, out string? ns, out string? name, out string? subresource)
    {
        resource = null!;
        ns = name = subresource = null;
        string group, version;
        string[] rest;
        if (s is ["api", var v, .. var r1])
        {
            (group, version, rest) = ("", v, r1);
        }
        else if (s is ["apis", var g, var v2, .. var r2])
        {
            (group, version, rest) = (g, v2, r2);
        }
        else
        {
            return false;
        }
        if (rest is ["namespaces", var n, var plural, .. var tail] && KubeResource.Find(group, version, plural) is { Namespaced: true } namespaced && tail.Length <= 2)
        {
            (resource, ns) = (namespaced, n);
            name = tail.ElementAtOrDefault(0);
            subresource = tail.ElementAtOrDefault(1);
            return true;
        }
        if (rest.Length is >= 1 and <= 3 && KubeResource.Find(group, version, rest[0]) is { } r)
        {
            resource = r;
            name = rest.ElementAtOrDefault(1);
            subresource = rest.ElementAtOrDefault(2);
            return r.Namespaced ? name is null : true;
        }
        return false;
    }

    private async Task HandleResourceAsync(HttpContext ctx, KubeResource r, string? ns, string? name, string? subresource, string user, string auditName)
    {
        var q = ctx.Request.Query;
        var method = ctx.Request.Method;
        var isWatch = q["watch"].ToString() is "true" or "1";
        var verb = method switch
        {
            "GET" when name is not null => "get",
            "GET" when isWatch => "watch",
            "GET" => "list",
            "POST" when name is null => "create",
            "PUT" when name is not null => "update",
            "PATCH" when name is not null => "patch",
            "DELETE" when name is not null => "delete",
            _ => null,
        };
        if (verb is null)
        {
            await WriteJson(ctx, 405, KubeStatus.Failure(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource"));
            return;
        }

        Interlocked.Increment(ref _total);
        _byVerb.AddOrUpdate(verb, 1, (_, n) => n + 1);
        _byResource.AddOrUpdate(r.Plural, 1, (_, n) => n + 1);

        var rbacResource = subresource is null ? r.Plural : $"{r.Plural}/{subresource}";
        // Like the apiserver's request-info resolver: a list or watch whose field selector pins metadata.name is
        // authorized as a request for that name, so a Role with resourceNames can grant it.
        var rbacName = name ?? (verb is "list" or "watch" ? Selector.ExactName(q["fieldSelector"]) : null);
        if (user != AdminUser && !_rbac.Allows(user, verb, r.Group, rbacResource, ns ?? "", rbacName))
        {
            var subject = name is null ? rbacResource : $"{rbacResource} \"{name}\"";
            if (r.Group.Length > 0) subject = name is null ? $"{rbacResource}.{r.Group}" : $"{rbacResource}.{r.Group} \"{name}\"";
            var scope = ns is null ? "at the cluster scope" : $"in the namespace \"{ns}\"";
            throw new KubeApiException(403, "Forbidden",
                $"{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{rbacResource}\" in API group \"{r.Group}\" {scope}",
                KubeStatus.DetailsOf(r, name ?? ""));
        }

        var latency = Faults.Latency;
        if (latency > TimeSpan.Zero) await Task.Delay(latency, ctx.RequestAborted);
        if (Faults.ShouldFail(verb, r.Plural))
            throw new KubeApiException(500, "InternalError", $"Internal error occurred: injected fault on {verb} {r.Plural}");

        var dryRun = q.ContainsKey("dryRun");
        var nsOrEmpty = ns ?? "";
        switch (verb)
        {
            case "get":
            {
                var obj = Store.Get(r, nsOrEmpty, name!);
                if (Tables.Wanted(ctx.Request.Headers.Accept))
                    await WriteJson(ctx, 200, Tables.Build(r, [obj], Store.CurrentResourceVersion, q["includeObject"]));
                else
                    await WriteJson(ctx, 200, obj);
                return;
            }
            case "list":
            {
                var selector = Selector.ParseLabels(q["labelSelector"]).And(Selector.ParseFields(q["fieldSelector"]));
                var (all, current) = Store.List(r, ns, selector);
                var (items, rv, next, remaining) = ListPages.Page(all, current, q["limit"], q["continue"]);
                if (Tables.Wanted(ctx.Request.Headers.Accept))
                {
                    var table = Tables.Build(r, items, rv, q["includeObject"]);
                    if (next is not null) table["metadata"]!["continue"] = next;
                    await WriteJson(ctx, 200, table);
                    return;
                }
                var listMeta = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) };
                if (next is not null)
                {
                    listMeta["continue"] = next;
                    listMeta["remainingItemCount"] = remaining;
                }
                await WriteJson(ctx, 200, new JsonObject
                {
                    ["kind"] = r.Kind + "List",
                    ["apiVersion"] = r.ApiVersion,
                    ["metadata"] = listMeta,
                    ["items"] = new JsonArray(items.Select(i => (JsonNode)i).ToArray()),
                });
                return;
            }
            case "watch":
                await WatchAsync(ctx, r, ns);
                return;
            case "create":
                await WriteJson(ctx, 201, Store.Create(r, nsOrEmpty, await ReadObjectAsync(ctx), auditName, dryRun));
                return;
            case "update":
                await WriteJson(ctx, 200, Store.Update(r, nsOrEmpty, name!, await ReadObjectAsync(ctx), auditName, dryRun));
                return;
            case "patch":
            {
                var body = await new StreamReader(ctx.Request.Body, Encoding.UTF8).ReadToEndAsync(ctx.RequestAborted);
                await WriteJson(ctx, 200, Store.Patch(r, nsOrEmpty, name!, ctx.Request.ContentType ?? "", body, auditName, dryRun));
                return;
            }
            case "delete":
            {
                var options = await ReadOptionalObjectAsync(ctx);
                var preconditions = options?["preconditions"];
                var gone = Store.Delete(r, nsOrEmpty, name!, auditName,
                    preconditions?["uid"]?.GetValue<string>(), preconditions?["resourceVersion"]?.GetValue<string>(), dryRun);
                await WriteJson(ctx, 200, r.IsCustomResource ? gone : KubeStatus.Success(r, name!, gone["metadata"]?["uid"]?.GetValue<string>()));
                return;
            }
        }
    }

    private async Task WatchAsync(HttpContext ctx, KubeResource r, string? ns)
    {
        var q = ctx.Request.Query;
        var selector = Selector.ParseLabels(q["labelSelector"]).And(Selector.ParseFields(q["fieldSelector"]));
        var bookmarks = q["allowWatchBookmarks"].ToString() is "true" or "1";
        var timeout = int.TryParse(q["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : _options.DefaultWatchTimeout;

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        WatchSubscription subscription;
        try
        {
            subscription = Store.Watch(r, ns, selector, q["resourceVersion"]);
        }
        catch (KubeApiException e) when (e.Code == 410)
        {
            // A real API server answers 200 and sends the expiry as the stream's only event.
            await WriteLine(ctx, new JsonObject { ["type"] = "ERROR", ["object"] = e.ToStatus() });
            return;
        }

        Interlocked.Increment(ref _openWatches);
        try
        {
            using var watch = subscription;
            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
            lifetime.CancelAfter(timeout);
            await ctx.Response.StartAsync(lifetime.Token);
            await ctx.Response.Body.FlushAsync(lifetime.Token);
            while (!lifetime.IsCancellationRequested)
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token);
                if (bookmarks) tick.CancelAfter(_options.BookmarkInterval);
                bool open;
                try
                {
                    open = await subscription.Events.WaitToReadAsync(tick.Token);
                }
                catch (OperationCanceledException) when (!lifetime.IsCancellationRequested)
                {
                    if (Faults.WatchesHeld(r.Plural)) continue;
                    // Read the version first: every event at or below it is already queued, so an empty
                    // queue means the watcher has seen everything up to it.
                    var rv = Store.CurrentResourceVersion;
                    if (!subscription.Events.TryPeek(out _))
                    {
                        await WriteLine(ctx, new JsonObject
                        {
                            ["type"] = "BOOKMARK",
                            ["object"] = new JsonObject
                            {
                                ["kind"] = r.Kind,
                                ["apiVersion"] = r.ApiVersion,
                                ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
                            },
                        });
                    }
                    continue;
                }
                if (!open) break;
                await Faults.WatchesFlowAsync(r.Plural, lifetime.Token);
                while (subscription.Events.TryRead(out var e))
                {
                    var line = new JsonObject { ["type"] = e.Type, ["object"] = e.Object.DeepClone() };
                    await ctx.Response.WriteAsync(line.ToJsonString() + "\n", lifetime.Token);
                }
                await ctx.Response.Body.FlushAsync(lifetime.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _openWatches);
        }
    }

    private async Task HandleSandboxAsync(HttpContext ctx, string[] s, string user)
    {
        if (user != AdminUser)
            throw new KubeApiException(403, "Forbidden", $"User \"{user}\" cannot use the sandbox admin API");
        switch (ctx.Request.Method, s)
        {
            case ("GET", [_, "audit"]):
                await WriteJson(ctx, 200, new JsonArray(Store.Audit.Select(a => (JsonNode)a.ToJson()).ToArray()));
                return;
            case ("GET", [_, "stats"]):
                await WriteJson(ctx, 200, Stats());
                return;
            case ("GET", [_, "faults"]):
                await WriteJson(ctx, 200, Faults.ToJson());
                return;
            case ("PUT", [_, "faults"]):
                if (Faults.Apply(await ReadObjectAsync(ctx))) Store.DropWatches();
                await WriteJson(ctx, 200, Faults.ToJson());
                return;
            case ("POST", [_, "expire-watches"]):
            {
                // {"resource":"virtualmachineinstances"} (plural, optionally "plural.group"): that kind's watches end and
                // resume with 410 Gone; the other kinds' watches are untouched.
                var body = await ReadObjectAsync(ctx);
                var name = body["resource"]?.GetValue<string>() ?? throw KubeApiException.BadRequest("expire-watches needs \"resource\": a plural such as virtualmachineinstances");
                var resource = KubeResource.All.FirstOrDefault(r => r.Plural == name || r.QualifiedName == name)
                               ?? throw KubeApiException.BadRequest($"expire-watches: unknown resource \"{name}\"; use a plural such as virtualmachineinstances");
                var ended = Store.ExpireWatches(resource);
                await WriteJson(ctx, 200, new JsonObject { ["resource"] = resource.QualifiedName, ["watchesEnded"] = ended, ["expiredThrough"] = Store.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                return;
            }
            default:
                await WriteJson(ctx, 404, KubeStatus.Failure(404, "NotFound", "the server could not find the requested resource"));
                return;
        }
    }

    public JsonObject Stats()
    {
        var byVerb = new JsonObject();
        foreach (var (k, v) in _byVerb.OrderBy(kv => kv.Key, StringComparer.Ordinal)) byVerb[k] = v;
        var byResource = new JsonObject();
        foreach (var (k, v) in _byResource.OrderBy(kv => kv.Key, StringComparer.Ordinal)) byResource[k] = v;
        return new JsonObject
        {
            ["total"] = Interlocked.Read(ref _total),
            ["byVerb"] = byVerb,
            ["byResource"] = byResource,
            ["watches"] = OpenWatches,
        };
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx) =>
        await ReadOptionalObjectAsync(ctx) ?? throw KubeApiException.BadRequest("the request body is empty");

    private static async Task<JsonObject?> ReadOptionalObjectAsync(HttpContext ctx)
    {
        var text = await new StreamReader(ctx.Request.Body, Encoding.UTF8).ReadToEndAsync(ctx.RequestAborted);
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw KubeApiException.BadRequest("the request body is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw KubeApiException.BadRequest($"error decoding the request body: {e.Message}");
        }
    }

    private static IResult Json(JsonNode body) => Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8);

    private static async Task WriteJson(HttpContext ctx, int code, JsonNode body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString(), ctx.RequestAborted);
    }

    private static async Task WriteLine(HttpContext ctx, JsonNode body)
    {
        await ctx.Response.WriteAsync(body.ToJsonString() + "\n", ctx.RequestAborted);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
    }

    private static string NewToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
