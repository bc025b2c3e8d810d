using System.CommandLine;
using System.Globalization;
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

/// <summary>An option a command takes: <c>--long VALUE</c> / <c>-s VALUE</c>; <paramref name="PositiveNumber"/> when
/// its value must be a whole number of at least 1.</summary>
public sealed record OptionSpec(string Long, string? Short, string ValueName, string Help, bool Required = false, bool PositiveNumber = false)
{
    public string Flag => Short is null ? "--" + Long : "-" + Short;
}

/// <summary>One command: its words (<c>cluster show</c>), options and positional arguments.</summary>
public sealed record CommandSpec(string Name, string Summary, IReadOnlyList<OptionSpec> Options, IReadOnlyList<string> Positionals)
{
    public string[] Words => Name.Split(' ');

    public string Usage()
    {
        var text = new StringBuilder("blipctl ").Append(Name);
        foreach (var o in Options)
        {
            var flag = $"{o.Flag} {o.ValueName}";
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

/// <summary>A parsed command line: a command to run, a text to print (help, completions), or a usage error.</summary>
public sealed record ParsedCommandLine(CommandSpec? Command, IReadOnlyDictionary<string, string> Options, IReadOnlyList<string> Positionals, GlobalOptions? Globals, string? Help, string? Error)
{
    public string? Option(string name) => Options.GetValueOrDefault(name);

    public static ParsedCommandLine Usage(string error) => new(null, new Dictionary<string, string>(), [], null, null, error);

    public static ParsedCommandLine ShowHelp(string help) => new(null, new Dictionary<string, string>(), [], null, help, null);
}

/// <summary>blipctl's vocabulary (Petabridge.Cmd's words for the cluster, and this domain's), parsed by System.CommandLine:
/// help on every command (<c>--help</c>), validation, and shell completion (the <c>[suggest]</c> directive).</summary>
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
        new("cluster tail", "print membership and reachability changes as they happen (Ctrl-C stops)", [new("duration", null, "SECONDS", "stop this long after printing the kept events", PositiveNumber: true)], []),
        new("actor hierarchy", "sorted absolute actor paths", [new("path", "s", "PATH", "start below this path (default /)"), new("depth", "d", "DEPTH", "levels to walk (default 4)", PositiveNumber: true)], []),
        new("cluster-sharding regions", "shard region type names", [], []),
        new("cluster-sharding region-stats", "per member: shards and entities of a region", [Region], []),
        new("cluster-sharding shard-stats", "per shard: member and entities of a region", [Region], []),
        new("cluster-sharding locate", "the shard and member of an entity", [Region, new("id", "i", "ID", "entity id", Required: true)], []),
        new("log peek", "recent log events of this node", [new("count", "c", "N", "how many (default 50)", PositiveNumber: true), new("level", "l", "LEVEL", "at least this level: debug, info, warning, error")], []),
        new("jobs list", "jobs in the journal, newest first", [new("repo", null, "OWNER/NAME", "only this repo"), new("state", null, "STATE", "only this phase or outcome"), new("limit", null, "N", "at most N jobs (default 50, at most 1000)", PositiveNumber: true),
            new("before", null, "CURSOR", "the next page: jobs sighted before this point (the 'More:' line of a page)", PositiveNumber: true)], []),
        new("jobs show", "one job: state, VM, runner, timings and event history", [], ["ID"]),
        new("repos", "repos being polled and the node polling them", [], []),
        new("vms", "the pool as this node sees it: claimable, session, claimed by", [], []),
        new("ratelimit", "the PAT's GitHub rate limit as this node last saw it", [], []),
        new("config show", "runner labels, repos, whether the PAT is present (never its value)", [], []),
    ];

    private const string Description = """
        blipctl: inspect and operate a Blip.Actors controller through its management endpoint.
        Exit codes: 0 ok, 1 command failed or not found, 2 usage error, 3 endpoint unreachable, 4 unauthorized.
        """;

    public static ParsedCommandLine Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var tree = new Tree();
        var result = tree.Root.Parse(args);
        if (ParseOutcome.LibraryText(result) is { } text)
        {
            return ParsedCommandLine.ShowHelp(text);
        }

        var command = tree.SpecOf(result.CommandResult.Command);
        var error = ParseOutcome.FirstError(result);
        if (error is not null || command is null)
        {
            error ??= "no command given";
            return ParsedCommandLine.Usage(command is null
                ? $"{error} ({string.Join(' ', CommandWords(result.CommandResult).Prepend("blipctl"))} --help lists the commands)"
                : $"{error}; usage: {command.Usage()}");
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (spec, option) in tree.OptionsOf(command))
        {
            if (result.GetValue(option) is { } value)
            {
                options[spec.Long] = value;
            }
        }

        var positionals = tree.ArgumentsOf(command).Select(a => result.GetValue(a)!).ToList();
        var endpoint = result.GetValue(tree.Endpoint) ?? environment.GetValueOrDefault(GlobalOptions.EndpointVariable);
        endpoint = string.IsNullOrWhiteSpace(endpoint) ? GlobalOptions.DefaultEndpoint : endpoint.Trim();
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return ParsedCommandLine.Usage($"--endpoint '{endpoint}' is not an http(s) URL");
        }

        var token = result.GetValue(tree.Token) ?? environment.GetValueOrDefault(GlobalOptions.TokenVariable);
        return new ParsedCommandLine(command, options, positionals, new GlobalOptions(uri, string.IsNullOrWhiteSpace(token) ? null : token, result.GetValue(tree.Output)), null, null);
    }

    /// <summary>The words of a command below the root: <c>cluster</c>, <c>cluster show</c>.</summary>
    private static IEnumerable<string> CommandWords(System.CommandLine.Parsing.CommandResult command) =>
        command.Parent is System.CommandLine.Parsing.CommandResult parent ? CommandWords(parent).Append(command.Command.Name) : [];

    private static OutputFormat ParseOutput(System.CommandLine.Parsing.ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return OutputFormat.Text;
        }

        var value = result.Tokens[0].Value;
        switch (value.ToLowerInvariant())
        {
            case "json":
                return OutputFormat.Json;
            case "text":
                return OutputFormat.Text;
            default:
                result.AddError($"unknown output format '{value}' (text or json)");
                return OutputFormat.Text;
        }
    }

    /// <summary>The command tree built from <see cref="Commands"/>: a command per word, the global options on the root.</summary>
    private sealed class Tree
    {
        private readonly Dictionary<Command, CommandSpec> _specs = [];
        private readonly Dictionary<CommandSpec, List<(OptionSpec, Option<string>)>> _options = [];
        private readonly Dictionary<CommandSpec, List<Argument<string>>> _arguments = [];

        public Tree()
        {
            // The root and the groups (cluster, jobs, …) act, so that a missing or unknown word is the program's one
            // usage error (naming the unknown word), not the library's "Required command was not provided".
            Root.SetAction(_ => ExitCodes.Usage);
            Root.Options.Add(Endpoint);
            Root.Options.Add(Token);
            Root.Options.Add(Output);
            foreach (var spec in Commands)
            {
                var parent = (Command)Root;
                foreach (var word in spec.Words[..^1])
                {
                    parent = parent.Subcommands.FirstOrDefault(c => c.Name == word) ?? Add(parent, Group(word));
                }

                var command = Add(parent, new Command(spec.Words[^1], spec.Summary));
                _specs[command] = spec;
                _options[spec] = spec.Options.Select(o => (o, Option(o))).ToList();
                _arguments[spec] = spec.Positionals.Select(Argument).ToList();
                _options[spec].ForEach(o => command.Options.Add(o.Item2));
                _arguments[spec].ForEach(command.Arguments.Add);
            }

            foreach (var group in Root.Subcommands.Where(c => c.Subcommands.Count > 0))
            {
                group.Description = string.Join(", ", group.Subcommands.Select(c => c.Name));
            }
        }

        public RootCommand Root { get; } = new(Description);

        public Option<string?> Endpoint { get; } = new("--endpoint")
        {
            Description = $"management endpoint (default ${GlobalOptions.EndpointVariable} or {GlobalOptions.DefaultEndpoint})",
            HelpName = "URL",
            Recursive = true,
        };

        public Option<string?> Token { get; } = new("--token")
        {
            Description = $"bearer token (default ${GlobalOptions.TokenVariable})",
            HelpName = "TOKEN",
            Recursive = true,
        };

        public Option<OutputFormat> Output { get; } = new("--output", "-o")
        {
            Description = "text or json",
            HelpName = "FORMAT",
            Recursive = true,
            CustomParser = ParseOutput,
            DefaultValueFactory = _ => OutputFormat.Text,
        };

        public CommandSpec? SpecOf(Command command) => _specs.GetValueOrDefault(command);

        public IReadOnlyList<(OptionSpec Spec, Option<string> Option)> OptionsOf(CommandSpec spec) => _options[spec];

        public IReadOnlyList<Argument<string>> ArgumentsOf(CommandSpec spec) => _arguments[spec];

        private static Command Add(Command parent, Command child)
        {
            parent.Subcommands.Add(child);
            return child;
        }

        private static Command Group(string word)
        {
            var group = new Command(word);
            group.SetAction(_ => ExitCodes.Usage);
            return group;
        }

        private static Option<string> Option(OptionSpec spec)
        {
            var option = spec.Short is null ? new Option<string>("--" + spec.Long) : new Option<string>("--" + spec.Long, "-" + spec.Short);
            option.Description = spec.Help;
            option.HelpName = spec.ValueName;
            option.Required = spec.Required;
            if (spec.PositiveNumber)
            {
                option.Validators.Add(r =>
                {
                    var value = r.GetValueOrDefault<string>();
                    if (value is not null && (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1))
                    {
                        r.AddError($"--{spec.Long} must be a positive whole number, not '{value}'");
                    }
                });
            }

            return option;
        }

        private static Argument<string> Argument(string name)
        {
            var argument = new Argument<string>(name) { HelpName = name };
            if (name == "ID")
            {
                argument.Description = "job id";
                argument.Validators.Add(r =>
                {
                    var value = r.GetValueOrDefault<string>();
                    if (value is not null && !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    {
                        r.AddError($"'{value}' is not a job id");
                    }
                });
            }

            return argument;
        }
    }
}
