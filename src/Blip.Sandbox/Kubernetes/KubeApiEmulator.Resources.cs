using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Blip.Sandbox.Kubernetes;

/// <summary>A resource request: its verb, authorization, injected latency and faults, then get, list (paged, or as a
/// table), watch, create, update, patch or delete in <see cref="Store"/>.</summary>
public sealed partial class KubeApiEmulator
{
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

        CountRequest(verb, r);
        Authorize(user, verb, r, ns, name, subresource, q);

        var latency = Faults.Latency;
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, ctx.RequestAborted);
        }

        if (Faults.ShouldFail(verb, r.Plural))
        {
            throw new KubeApiException(500, "InternalError", $"Internal error occurred: injected fault on {verb} {r.Plural}");
        }

        var dryRun = q.ContainsKey("dryRun");
        var nsOrEmpty = ns ?? "";
        switch (verb)
        {
            case "get" when r == KubeResource.Pods && subresource is not null:
                if (subresource != "log")
                {
                    throw new KubeApiException(404, "NotFound", "the server could not find the requested resource");
                }

                await ServeLogAsync(ctx, nsOrEmpty, name!);
                return;
            case "get":
                {
                    var obj = Store.Get(r, nsOrEmpty, name!);
                    if (Tables.Wanted(ctx.Request.Headers.Accept))
                    {
                        await WriteJson(ctx, 200, Tables.Build(r, [obj], Store.CurrentResourceVersion, q["includeObject"]));
                    }
                    else
                    {
                        await WriteJson(ctx, 200, obj);
                    }

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
                        if (next is not null)
                        {
                            table["metadata"]!["continue"] = next;
                        }

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
                await WriteJson(ctx, 201, Store.Create(r, nsOrEmpty, await ReadObjectAsync(ctx, r), auditName, dryRun));
                return;
            case "update":
                await WriteJson(ctx, 200, Store.Update(r, nsOrEmpty, name!, await ReadObjectAsync(ctx, r), auditName, dryRun));
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
}
