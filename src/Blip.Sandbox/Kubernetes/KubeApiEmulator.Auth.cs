using System.Security.Cryptography;
using System.Text;

namespace Blip.Sandbox.Kubernetes;

/// <summary>Bearer tokens (the admin token, the controller token) and RBAC.</summary>
public sealed partial class KubeApiEmulator
{
    private (string User, string AuditName)? Authenticate(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header[bearer.Length..].Trim();
        foreach (var (known, identity) in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(known), Encoding.UTF8.GetBytes(token)))
            {
                return identity;
            }
        }
        return null;
    }

    /// <summary>Holds every user but the admin to the Role in k8s/rbac.yaml: 403 Forbidden, worded as the API server words it.</summary>
    private void Authorize(string user, string verb, KubeResource r, string? ns, string? name, string? subresource, IQueryCollection q)
    {
        var rbacResource = subresource is null ? r.Plural : $"{r.Plural}/{subresource}";
        // Like the apiserver's request-info resolver: a list or watch whose field selector pins metadata.name is
        // authorized as a request for that name, so a Role with resourceNames can grant it.
        var rbacName = name ?? (verb is "list" or "watch" ? Selector.ExactName(q["fieldSelector"]) : null);
        if (user != AdminUser && !_rbac.Allows(user, verb, r.Group, rbacResource, ns ?? "", rbacName))
        {
            // The object is named by its resource alone ("pods \"x\""), the subresource shows in what was refused ("pods/log").
            var subject = name is null ? rbacResource : $"{r.Plural} \"{name}\"";
            if (r.Group.Length > 0)
            {
                subject = name is null ? $"{rbacResource}.{r.Group}" : $"{r.Plural}.{r.Group} \"{name}\"";
            }

            var scope = ns is null ? "at the cluster scope" : $"in the namespace \"{ns}\"";
            throw new KubeApiException(403, "Forbidden",
                $"{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{rbacResource}\" in API group \"{r.Group}\" {scope}",
                KubeStatus.DetailsOf(r, name ?? ""));
        }
    }
}
