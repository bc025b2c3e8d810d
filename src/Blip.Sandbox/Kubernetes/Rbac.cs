using System.Reflection;
using YamlDotNet.RepresentationModel;

namespace Blip.Sandbox.Kubernetes;

/// <summary>One PolicyRule of a Role or ClusterRole.</summary>
public sealed record RbacRule(IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs, IReadOnlyList<string> ResourceNames)
{
    public bool Allows(string group, string resource, string verb, string? name) =>
        Has(ApiGroups, group) && Has(Resources, resource) && Has(Verbs, verb) &&
        (ResourceNames.Count == 0 || (name is not null && ResourceNames.Contains(name)));

    private static bool Has(IReadOnlyList<string> list, string value) => list.Contains("*") || list.Contains(value);
}

/// <summary>
/// The Roles, ClusterRoles and bindings of a manifest (k8s/rbac.yaml is embedded as "rbac.yaml"),
/// evaluated like the RBAC authorizer: a request is allowed when some rule bound to the user allows
/// the (apiGroup, resource, verb, name) in that namespace.
/// </summary>
public sealed class Rbac
{
    private readonly Dictionary<(string Namespace, string Name), List<RbacRule>> _roles = [];
    private readonly Dictionary<string, List<RbacRule>> _clusterRoles = [];
    private readonly List<(string Namespace, string RoleKind, string RoleName, string User)> _bindings = [];

    public static Rbac FromEmbeddedManifest()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("rbac.yaml")
                           ?? throw new InvalidOperationException("rbac.yaml is not embedded in the sandbox assembly");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    public static Rbac Parse(string yaml)
    {
        var rbac = new Rbac();
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is not YamlMappingNode root)
            {
                continue;
            }

            var kind = Scalar(root, "kind");
            var meta = root.Children.TryGetValue("metadata", out var m) ? m as YamlMappingNode : null;
            var name = meta is null ? "" : Scalar(meta, "name");
            var ns = meta is null ? "" : Scalar(meta, "namespace");
            switch (kind)
            {
                case "Role":
                    rbac._roles[(ns, name)] = Rules(root);
                    break;
                case "ClusterRole":
                    rbac._clusterRoles[name] = Rules(root);
                    break;
                case "RoleBinding":
                case "ClusterRoleBinding":
                    {
                        var roleRef = (YamlMappingNode)root["roleRef"];
                        if (!root.Children.TryGetValue("subjects", out var subjects) || subjects is not YamlSequenceNode seq)
                        {
                            break;
                        }

                        foreach (var subject in seq.Children.OfType<YamlMappingNode>())
                        {
                            var subjectNs = Scalar(subject, "namespace");
                            var user = Scalar(subject, "kind") switch
                            {
                                "ServiceAccount" => $"system:serviceaccount:{(subjectNs.Length > 0 ? subjectNs : ns)}:{Scalar(subject, "name")}",
                                _ => Scalar(subject, "name"),
                            };
                            rbac._bindings.Add((kind == "RoleBinding" ? ns : "*", Scalar(roleRef, "kind"), Scalar(roleRef, "name"), user));
                        }
                        break;
                    }
            }
        }
        return rbac;
    }

    /// <summary>Whether <paramref name="user"/> may do <paramref name="verb"/> on the resource; ns "" = cluster scope.</summary>
    public bool Allows(string user, string verb, string group, string resource, string ns, string? name)
    {
        foreach (var (bindingNs, roleKind, roleName, subject) in _bindings)
        {
            if (subject != user || (bindingNs != "*" && bindingNs != ns))
            {
                continue;
            }

            var rules = roleKind == "ClusterRole"
                ? _clusterRoles.GetValueOrDefault(roleName)
                : _roles.GetValueOrDefault((bindingNs, roleName));
            if (rules?.Any(r => r.Allows(group, resource, verb, name)) == true)
            {
                return true;
            }
        }
        return false;
    }

    private static List<RbacRule> Rules(YamlMappingNode root)
    {
        if (!root.Children.TryGetValue("rules", out var rules) || rules is not YamlSequenceNode seq)
        {
            return [];
        }

        return seq.Children.OfType<YamlMappingNode>()
            .Select(r => new RbacRule(List(r, "apiGroups"), List(r, "resources"), List(r, "verbs"), List(r, "resourceNames")))
            .ToList();
    }

    private static List<string> List(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var v) && v is YamlSequenceNode seq
            ? seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList()
            : [];

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var v) && v is YamlScalarNode s ? s.Value ?? "" : "";
}
