using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Blip.Ctl;

namespace Blip.Sandbox.Cli;

/// <summary>What <c>blip-sandbox</c> was asked to do.</summary>
public sealed record SandboxCommand
{
    public int Vms { get; init; } = 3;
    public IReadOnlyList<string> Repos { get; init; } = ["demo-org/demo-repo"];
    public int Jobs { get; init; } = 10;
    public int Nodes { get; init; } = 1;
    public string Store { get; init; } = "sqlite";

    /// <summary>A PostgreSQL to use instead of starting one (implies <c>--store postgres</c>).</summary>
    public string? PostgresConnectionString { get; init; }
    public bool Demo { get; init; } = true;
    public bool Controller { get; init; } = true;

    /// <summary>The GitHub emulator delivers signed workflow_job events to controller 0's webhook receiver.</summary>
    public bool Webhooks { get; init; }
    public string StateDir { get; init; } = ".sandbox";

    /// <summary>Exit after this long; null runs until Ctrl-C or SIGTERM.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary><c>--set Blip__Name=value</c>: more controller settings, passed to every controller process.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = NoSettings;

    public static readonly IReadOnlyDictionary<string, string> NoSettings = new Dictionary<string, string>();
}

/// <summary>What the command line asked for: a command to run, a text to print (<c>--help</c>), or one usage error.</summary>
public sealed record SandboxCommandLineResult(SandboxCommand? Command, string? Text, string? Error);

/// <summary>The options, parsed by System.CommandLine; one clear error per bad value (exit code 2).</summary>
public static class SandboxCommandLine
{
    private const string Description = """
        A whole Blip world on this machine: a Kubernetes API emulator, a pool of VMs (real sshd on
        127.0.1.x running a fake GitHub runner), a GitHub API emulator and the controller itself.
        Run it with: dotnet run --project src/Blip.Sandbox -- [options]
        """;

    public static SandboxCommandLineResult Parse(IReadOnlyList<string> args)
    {
        var defaults = new SandboxCommand();
        var vms = Count("--vms", "VMs in the pool", defaults.Vms, min: 1, max: 100);
        var repos = new Option<IReadOnlyList<string>>("--repos")
        {
            Description = "repositories to serve and poll",
            HelpName = "a/b,c/d",
            CustomParser = r => Repos(r, defaults.Repos),
            DefaultValueFactory = _ => defaults.Repos,
        };
        var jobs = Count("--jobs", "demo jobs to queue", defaults.Jobs, min: 0, max: 1000);
        var nodes = Count("--nodes", "controller processes forming one cluster", defaults.Nodes, min: 1, max: 5);
        var store = new Option<string>("--store")
        {
            Description = "the controllers' journal (default sqlite: one file per node; postgres: shared by all nodes, a throwaway "
                + "PostgreSQL server on 127.0.0.1 started in the state dir, installed once as root on Debian if missing)",
            HelpName = "sqlite|postgres",
        };
        store.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } value && value is not ("sqlite" or "postgres"))
            {
                r.AddError($"--store '{value}' must be sqlite or postgres");
            }
        });
        var postgres = new Option<string>("--postgres")
        {
            Description = "use this PostgreSQL instead of starting one (implies --store postgres); "
                + "e.g. \"Host=127.0.0.1;Port=5432;Username=blip;Password=…;Database=blip\"",
            HelpName = "CONNSTRING",
        };
        postgres.Validators.Add(r =>
        {
            if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()))
            {
                r.AddError("--postgres is empty");
            }
        });
        var noDemo = new Option<bool>("--no-demo")
        {
            Description = "no github-actions ConfigMap, no github-pat Secret, no jobs: configure it yourself with the kubectl commands printed at start",
        };
        var noController = new Option<bool>("--no-controller") { Description = "run the emulators only" };
        var webhooks = new Option<bool>("--webhooks")
        {
            Description = "the GitHub emulator also delivers signed workflow_job events to controller 0's webhook receiver "
                + "(on a free loopback port; Secret github-webhook holds the secret); sandbox.json names webhookUrl and "
                + "webhookSecret, so you can post deliveries of your own",
        };
        var stateDir = new Option<string>("--state-dir")
        {
            Description = "where kubeconfig, sandbox.json, VMs and logs go; wiped at start",
            HelpName = "DIR",
            DefaultValueFactory = _ => defaults.StateDir,
        };
        stateDir.Validators.Add(r =>
        {
            if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()))
            {
                r.AddError($"--state-dir '{r.GetValueOrDefault<string>()}' is empty");
            }
        });
        var duration = Count("--duration", "exit after this many seconds (default: until Ctrl-C)", null, min: 1, max: 7 * 24 * 3600);
        var set = new Option<IReadOnlyDictionary<string, string>>("--set")
        {
            Description = "a controller setting for every controller process (repeatable), as its environment variable: "
                + "e.g. --set Blip__JobRetention=00:10:00 (the README's \"Controller options\")",
            HelpName = "Blip__Name=value",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            CustomParser = ControllerSettings.Parse,
            DefaultValueFactory = _ => SandboxCommand.NoSettings,
        };

        var root = new RootCommand(Description) { vms, repos, jobs, nodes, store, postgres, noDemo, noController, webhooks, stateDir, duration, set };
        root.Validators.Add(r =>
        {
            if (r.GetValue(webhooks) && r.GetValue(noController))
            {
                r.AddError("--webhooks needs a controller to deliver to (drop --no-controller)");
            }

            if (r.GetResult(postgres) is not null && r.GetValue(store) is "sqlite")
            {
                r.AddError("--postgres needs --store postgres (or no --store)");
            }
        });

        var result = root.Parse(args);
        if (ParseOutcome.LibraryText(result) is { } text)
        {
            return new SandboxCommandLineResult(null, text, null);
        }

        if (ParseOutcome.FirstError(result) is { } error)
        {
            return new SandboxCommandLineResult(null, null, $"{error} (usage: blip-sandbox --help)");
        }

        var connectionString = result.GetValue(postgres);
        return new SandboxCommandLineResult(
            new SandboxCommand
            {
                Vms = result.GetValue(vms)!.Value,
                Repos = result.GetValue(repos)!,
                Jobs = result.GetValue(jobs)!.Value,
                Nodes = result.GetValue(nodes)!.Value,
                Store = connectionString is null ? result.GetValue(store) ?? defaults.Store : "postgres",
                PostgresConnectionString = connectionString,
                Demo = !result.GetValue(noDemo),
                Controller = !result.GetValue(noController),
                Webhooks = result.GetValue(webhooks),
                StateDir = result.GetValue(stateDir)!,
                Duration = result.GetValue(duration) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                Settings = result.GetValue(set)!,
            },
            null,
            null);
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, named in the error with the value given.</summary>
    private static Option<int?> Count(string name, string description, int? fallback, int min, int max)
    {
        var option = new Option<int?>(name)
        {
            Description = description,
            HelpName = max > 1000 ? "SECONDS" : "N",
            CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
            {
                return fallback;
            }

            var value = r.Tokens[0].Value;
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
            {
                return n;
            }

            r.AddError($"{name} '{value}' must be a whole number from {min} to {max}");
            return fallback;
        },
        };
        if (fallback is not null)
        {
            option.DefaultValueFactory = _ => fallback;
        }

        return option;
    }

    private static IReadOnlyList<string> Repos(ArgumentResult result, IReadOnlyList<string> fallback)
    {
        if (result.Tokens.Count == 0)
        {
            return fallback;
        }

        var value = result.Tokens[0].Value;
        var repos = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (repos.Length == 0)
        {
            result.AddError($"--repos '{value}' names no repository");
            return fallback;
        }

        foreach (var repo in repos)
        {
            var parts = repo.Split('/');
            if (parts.Length != 2 || !parts.All(IsRepoNamePart))
            {
                result.AddError($"--repos '{repo}' is not owner/name (letters, digits, '-', '_', '.')");
                return fallback;
            }
        }

        return repos.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static bool IsRepoNamePart(string part) =>
        part.Length is > 0 and <= 100 && part != "." && part != ".."
        && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
