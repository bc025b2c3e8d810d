using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Blip.Sandbox.Cli;

/// <summary><c>--set Blip__Name=value</c>: controller settings the sandbox passes on as environment variables. Settings
/// the sandbox wires itself (where the emulators, the journal and the cluster are) and secrets are refused by name:
/// a secret on a command line is readable by every user of the machine.</summary>
public static partial class ControllerSettings
{
    private const string Prefix = "Blip__";

    /// <summary>What the sandbox sets from its own world for each controller (<see cref="ControllerProcess"/>).</summary>
    private static readonly HashSet<string> Wired = new(StringComparer.OrdinalIgnoreCase)
    {
        "Kubeconfig", "GitHubApiUrl", "Namespace", "Pool", "SshPort", "DataDir", "Store", "ClusterHostname", "ClusterPort",
        "NodeName", "SeedNodes", "ManagementUrl", "WebhookUrl",
    };

    private static readonly HashSet<string> Secrets = new(StringComparer.OrdinalIgnoreCase) { "ConnectionString", "ManagementToken" };

    /// <summary>Every <c>--set</c> token; the last of a name wins. One error names the first bad token.</summary>
    public static IReadOnlyDictionary<string, string> Parse(ArgumentResult result)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var token in result.Tokens.Select(t => t.Value))
        {
            if (Error(token) is { } error)
            {
                result.AddError(error);
                return SandboxCommand.NoSettings;
            }

            var equals = token.IndexOf('=', StringComparison.Ordinal);
            settings[token[..equals]] = token[(equals + 1)..];
        }

        return settings.Count == 0 ? SandboxCommand.NoSettings : settings;
    }

    /// <summary>Why <paramref name="token"/> cannot be a setting, or null.</summary>
    public static string? Error(string token)
    {
        var equals = token.IndexOf('=', StringComparison.Ordinal);
        var name = equals < 0 ? token : token[..equals];
        if (equals < 0 || !SettingName().IsMatch(name))
        {
            return $"--set '{token}' must be Blip__Name=value (e.g. --set Blip__JobRetention=00:10:00)";
        }

        var setting = name[Prefix.Length..];
        if (Secrets.Contains(setting))
        {
            return $"--set {name}: a secret does not go on a command line (every user of the machine can read it)";
        }

        return Wired.Contains(setting)
            ? $"--set {name}: the sandbox sets {setting} itself for each controller (it points at the sandbox's own emulators, journal or cluster)"
            : null;
    }

    [GeneratedRegex("^Blip__[A-Za-z][A-Za-z0-9_]*$")]
    private static partial Regex SettingName();
}
