using System.Text;

namespace Blip.Ctl;

/// <summary>What a scripted caller can rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Unreachable = 3;
    public const int Unauthorized = 4;
}

public enum OutputFormat
{
    Text,
    Json,
}

/// <summary>An option a command takes: <c>--long VALUE</c> / <c>-s VALUE</c>.</summary>
public sealed record OptionSpec(string Long, string? Short, string ValueName, string Help, bool Required = false);

/// <summary>One command: its words (<c>cluster show</c>), options and positional arguments.</summary>
public sealed record CommandSpec(string Name, string Summary, IReadOnlyList<OptionSpec> Options, IReadOnlyList<string> Positionals)
{
    public string[] Words => Name.Split(' ');

    public string Usage()
    {
        var text = new StringBuilder("blipctl ").Append(Name);
        foreach (var o in Options)
        {
            var flag = o.Short is null ? $"--{o.Long} {o.ValueName}" : $"-{o.Short} {o.ValueName}";
            text.Append(' ').Append(o.Required ? flag : $"[{flag}]");
        }

        foreach (var p in Positionals)
        {
            text.Append(' ').Append(p);
        }

        return text.ToString();
    }
}

/// <summary>The options every command takes.</summary>
public sealed record GlobalOptions(Uri Endpoint, string? Token, OutputFormat Output)
{
    public const string DefaultEndpoint = "http://127.0.0.1:9110";
    public const string EndpointVariable = "BLIPCTL_ENDPOINT";
    public const string TokenVariable = "BLIPCTL_TOKEN";
}

/// <summary>A parsed command line: a command to run, a help text to print, or a usage error.</summary>
public sealed record ParseResult(CommandSpec? Command, IReadOnlyDictionary<string, string> Options, IReadOnlyList<string> Positionals, GlobalOptions? Globals, string? Help, string? Error)
{
    public string? Option(string name) => Options.GetValueOrDefault(name);

    public static ParseResult Usage(string error) => new(null, new Dictionary<string, string>(), [], null, null, error);

    public static ParseResult ShowHelp(string help) => new(null, new Dictionary<string, string>(), [], null, help, null);
}

/// <summary>blipctl's vocabulary (Petabridge.Cmd's words for the cluster, and this domain's) and its parser. Pure.</summary>
public static class CommandLine
{
    private static readonly OptionSpec Address = new("address", "a", "ADDR", "member address, e.g. akka.tcp://blip@host:4053", Required: true);
    private static readonly OptionSpec Region = new("region", "r", "TYPE", "shard region type name, e.g. job", Required: true);

    public static readonly IReadOnlyList<CommandSpec> Commands =
    [
        new("cluster show", "one line per member: address | roles | status | reachability", [], []),
        new("cluster status", "this node's address, status, the leader and member counts", [], []),
        new("cluster leader", "the leader's address", [], []),
        new("cluster leave", "ask a member to leave the cluster gracefully", [Address], []),
        new("cluster down", "mark a member as down", [Address], []),
        new("cluster down-unreachable", "mark every unreachable member as down", [], []),
        new("cluster tail", "print membership and reachability changes as they happen (Ctrl-C stops)", [new("duration", null, "SECONDS", "stop this long after printing the kept events")], []),
        new("actor hierarchy", "sorted absolute actor paths", [new("path", "s", "PATH", "start below this path (default /)"), new("depth", "d", "DEPTH", "levels to walk (default 4)")], []),
        new("cluster-sharding regions", "shard region type names", [], []),
        new("cluster-sharding region-stats", "per member: shards and entities of a region", [Region], []),
        new("cluster-sharding shard-stats", "per shard: member and entities of a region", [Region], []),
        new("cluster-sharding locate", "the shard and member of an entity", [Region, new("id", "i", "ID", "entity id", Required: true)], []),
        new("log peek", "recent log events of this node", [new("count", "c", "N", "how many (default 50)"), new("level", "l", "LEVEL", "at least this level: debug, info, warning, error")], []),
        new("jobs list", "jobs in the journal, newest first", [new("repo", null, "OWNER/NAME", "only this repo"), new("state", null, "STATE", "only this phase or outcome"), new("limit", null, "N", "at most N jobs (default 50)")], []),
        new("jobs show", "one job: state, VM, runner, timings and event history", [], ["ID"]),
        new("repos", "repos being polled and the node polling them", [], []),
        new("vms", "the pool as this node sees it: claimable, session, claimed by", [], []),
        new("ratelimit", "the PAT's GitHub rate limit as this node last saw it", [], []),
        new("config show", "runner labels, repos, whether the PAT is present (never its value)", [], []),
    ];

    public static string HelpText()
    {
        var text = new StringBuilder();
        text.Append("blipctl: inspect and operate a Blip.Actors controller through its management endpoint\n\n");
        text.Append("Commands:\n");
        var width = Commands.Max(c => c.Usage().Length);
        foreach (var c in Commands)
        {
            text.Append("  ").Append(c.Usage().PadRight(width)).Append("  ").Append(c.Summary).Append('\n');
        }

        text.Append("\nOptions for every command:\n");
        text.Append($"  --endpoint URL   management endpoint (default ${GlobalOptions.EndpointVariable} or {GlobalOptions.DefaultEndpoint})\n");
        text.Append($"  --token TOKEN    bearer token (default ${GlobalOptions.TokenVariable})\n");
        text.Append("  -o, --output F   text (default) or json\n");
        text.Append("\nExit codes: 0 ok, 1 command failed or not found, 2 usage error, 3 endpoint unreachable, 4 unauthorized\n");
        return text.ToString();
    }

    public static ParseResult Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var words = new List<string>();
        var raw = new List<(string Name, string? Value)>();
        var help = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                help = true;
                continue;
            }

            if (arg.Length > 1 && arg[0] == '-' && !IsNegativeNumber(arg))
            {
                var name = arg.TrimStart('-');
                string? value = null;
                var eq = name.IndexOf('=');
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                else if (i + 1 < args.Count)
                {
                    value = args[++i];
                }

                if (value is null)
                {
                    return ParseResult.Usage($"option {arg} needs a value");
                }

                raw.Add((name, value));
                continue;
            }

            words.Add(arg);
        }

        var command = Commands
            .Where(c => c.Words.Length <= words.Count && c.Words.SequenceEqual(words.Take(c.Words.Length), StringComparer.Ordinal))
            .MaxBy(c => c.Words.Length);
        if (command is null)
        {
            if (help || words.Count == 0)
            {
                return help ? ParseResult.ShowHelp(HelpText()) : ParseResult.Usage("no command given (blipctl --help lists them)");
            }

            return ParseResult.Usage($"unknown command '{string.Join(' ', words)}' (blipctl --help lists them)");
        }

        if (help)
        {
            return ParseResult.ShowHelp(command.Usage() + "\n  " + command.Summary + "\n" +
                string.Concat(command.Options.Select(o => $"  {(o.Short is null ? "" : $"-{o.Short}, ")}--{o.Long} {o.ValueName}: {o.Help}\n")));
        }

        var positionals = words.Skip(command.Words.Length).ToList();
        if (positionals.Count != command.Positionals.Count)
        {
            return ParseResult.Usage(command.Positionals.Count == 0
                ? $"unexpected argument '{positionals[0]}'; usage: {command.Usage()}"
                : $"expected {string.Join(' ', command.Positionals)}; usage: {command.Usage()}");
        }

        string? endpoint = environment.GetValueOrDefault(GlobalOptions.EndpointVariable);
        string? token = environment.GetValueOrDefault(GlobalOptions.TokenVariable);
        var output = OutputFormat.Text;
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in raw)
        {
            switch (name)
            {
                case "endpoint":
                    endpoint = value;
                    continue;
                case "token":
                    token = value;
                    continue;
                case "o" or "output":
                    if (!TryParseOutput(value!, out output))
                    {
                        return ParseResult.Usage($"unknown output format '{value}' (text or json)");
                    }

                    continue;
            }

            var spec = command.Options.FirstOrDefault(o => o.Long == name || o.Short == name);
            if (spec is null)
            {
                return ParseResult.Usage($"unknown option '{(name.Length == 1 ? "-" : "--")}{name}' for '{command.Name}'; usage: {command.Usage()}");
            }

            options[spec.Long] = value!;
        }

        foreach (var missing in command.Options.Where(o => o.Required && !options.ContainsKey(o.Long)))
        {
            return ParseResult.Usage($"missing {(missing.Short is null ? "--" + missing.Long : "-" + missing.Short)} {missing.ValueName}; usage: {command.Usage()}");
        }

        foreach (var numeric in new[] { "depth", "count", "duration", "limit" })
        {
            if (options.TryGetValue(numeric, out var n) && (!int.TryParse(n, out var v) || v < 1))
            {
                return ParseResult.Usage($"--{numeric} must be a positive whole number, not '{n}'");
            }
        }

        if (command.Name == "jobs show" && !long.TryParse(positionals[0], out _))
        {
            return ParseResult.Usage($"'{positionals[0]}' is not a job id");
        }

        endpoint = string.IsNullOrWhiteSpace(endpoint) ? GlobalOptions.DefaultEndpoint : endpoint.Trim();
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return ParseResult.Usage($"--endpoint '{endpoint}' is not an http(s) URL");
        }

        return new ParseResult(command, options, positionals, new GlobalOptions(uri, string.IsNullOrWhiteSpace(token) ? null : token, output), null, null);
    }

    private static bool TryParseOutput(string value, out OutputFormat format)
    {
        format = value.ToLowerInvariant() switch
        {
            "json" => OutputFormat.Json,
            "text" => OutputFormat.Text,
            _ => (OutputFormat)(-1),
        };
        return Enum.IsDefined(format);
    }

    private static bool IsNegativeNumber(string arg) => arg.Length > 1 && arg[0] == '-' && char.IsAsciiDigit(arg[1]);
}
