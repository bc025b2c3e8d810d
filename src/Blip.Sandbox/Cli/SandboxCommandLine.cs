using System.Globalization;

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
}

/// <summary>Parses the command line; one clear error per bad value (exit code 2).</summary>
public static class SandboxCommandLine
{
    public const string Usage = """
        Usage: dotnet run --project src/Blip.Sandbox -- [options]

        A whole Blip world on this machine: a Kubernetes API emulator, a pool of VMs (real sshd on
        127.0.1.x running a fake GitHub runner), a GitHub API emulator and the controller itself.

        Options:
          --vms N              VMs in the pool (default 3)
          --repos a/b,c/d      repositories to serve and poll (default demo-org/demo-repo)
          --jobs N             demo jobs to queue (default 10)
          --nodes N            controller processes forming one cluster (default 1)
          --store sqlite|postgres
                               the controllers' journal (default sqlite: one file per node; postgres:
                               shared by all nodes, a throwaway PostgreSQL server on 127.0.0.1 started
                               in the state dir, installed once as root on Debian if missing)
          --postgres CONNSTRING
                               use this PostgreSQL instead of starting one (implies --store postgres);
                               e.g. "Host=127.0.0.1;Port=5432;Username=blip;Password=…;Database=blip"
          --no-demo            no github-actions ConfigMap, no github-pat Secret, no jobs: configure it
                               yourself with the kubectl commands printed at start
          --no-controller      run the emulators only
          --webhooks           the GitHub emulator also delivers signed workflow_job events to controller
                               0's webhook receiver (on a free loopback port; Secret github-webhook holds
                               the secret); sandbox.json names webhookUrl and webhookSecret, so you can
                               post deliveries of your own
          --state-dir DIR      where kubeconfig, sandbox.json, VMs and logs go; wiped at start
                               (default .sandbox/)
          --duration SECONDS   exit after this many seconds (default: until Ctrl-C)
          --help               print this text
        """;

    /// <summary>The command, or null with <paramref name="error"/> naming the bad option and value.
    /// <paramref name="help"/> is set when --help was asked for.</summary>
    public static SandboxCommand? Parse(IReadOnlyList<string> args, out string? error, out bool help)
    {
        var command = new SandboxCommand();
        error = null;
        help = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inlineValue = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 0)
            {
                inlineValue = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            string Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }

                if (i + 1 >= args.Count)
                {
                    throw new CommandLineException($"{arg} needs a value");
                }

                return args[++i];
            }

            try
            {
                switch (arg)
                {
                    case "--help" or "-h":
                        help = true;
                        return null;
                    case "--vms":
                        command = command with { Vms = Count(arg, Value(), min: 1, max: 100) };
                        break;
                    case "--repos":
                        command = command with { Repos = Repos(arg, Value()) };
                        break;
                    case "--jobs":
                        command = command with { Jobs = Count(arg, Value(), min: 0, max: 1000) };
                        break;
                    case "--nodes":
                        command = command with { Nodes = Count(arg, Value(), min: 1, max: 5) };
                        break;
                    case "--store":
                        command = command with { Store = Store(arg, Value()) };
                        break;
                    case "--postgres":
                        var connectionString = Value();
                        if (string.IsNullOrWhiteSpace(connectionString))
                        {
                            throw new CommandLineException($"{arg} is empty");
                        }

                        command = command with { Store = "postgres", PostgresConnectionString = connectionString };
                        break;
                    case "--no-demo":
                        command = command with { Demo = false };
                        break;
                    case "--no-controller":
                        command = command with { Controller = false };
                        break;
                    case "--webhooks":
                        command = command with { Webhooks = true };
                        break;
                    case "--state-dir":
                        var dir = Value();
                        if (string.IsNullOrWhiteSpace(dir))
                        {
                            throw new CommandLineException($"{arg} '{dir}' is empty");
                        }

                        command = command with { StateDir = dir };
                        break;
                    case "--duration":
                        command = command with { Duration = TimeSpan.FromSeconds(Count(arg, Value(), min: 1, max: 7 * 24 * 3600)) };
                        break;
                    default:
                        throw new CommandLineException($"unknown option '{args[i]}' (see --help)");
                }
            }
            catch (CommandLineException e)
            {
                error = e.Message;
                return null;
            }
        }

        if (command.Webhooks && !command.Controller)
        {
            error = "--webhooks needs a controller to deliver to (drop --no-controller)";
            return null;
        }

        if (command.PostgresConnectionString is not null && command.Store != "postgres")
        {
            error = "--postgres needs --store postgres (or no --store)";
            return null;
        }

        return command;
    }

    private static int Count(string option, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new CommandLineException($"{option} '{value}' must be a whole number from {min} to {max}");

    private static IReadOnlyList<string> Repos(string option, string value)
    {
        var repos = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (repos.Length == 0)
        {
            throw new CommandLineException($"{option} '{value}' names no repository");
        }

        foreach (var repo in repos)
        {
            var parts = repo.Split('/');
            if (parts.Length != 2 || !parts.All(IsRepoNamePart))
            {
                throw new CommandLineException($"{option} '{repo}' is not owner/name (letters, digits, '-', '_', '.')");
            }
        }

        return repos.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static bool IsRepoNamePart(string part) =>
        part.Length is > 0 and <= 100 && part != "." && part != ".."
        && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static string Store(string option, string value) => value switch
    {
        "sqlite" or "postgres" => value,
        _ => throw new CommandLineException($"{option} '{value}' must be sqlite or postgres"),
    };

    private sealed class CommandLineException(string message) : Exception(message);
}
