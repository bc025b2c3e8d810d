using System.Runtime.InteropServices;
using Spectre.Console;

namespace Blip.Sandbox.Cli;

/// <summary>
/// <c>blip-sandbox</c>: starts the world (Kubernetes API, VM pool, GitHub), configures it, starts the
/// controller nodes as processes, runs the demo, and on Ctrl-C, SIGTERM or <c>--duration</c> stops it all
/// leaving no process behind.
/// </summary>
public static class SandboxApp
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ControllerStopGrace = TimeSpan.FromSeconds(10);
    private static readonly IAnsiConsole? Terminal = DemoRun.Terminal();

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = SandboxCommandLine.Parse(args);
        if (parsed.Text is { } text)
        {
            Console.Out.Write(text);
            return ExitOk;
        }

        if (parsed.Command is not { } command)
        {
            Console.Error.WriteLine($"blip-sandbox: {parsed.Error}");
            return ExitUsage;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => RequestStop(c, stop, "Ctrl-C"));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => RequestStop(c, stop, "SIGTERM"));
        if (command.Duration is { } duration)
        {
            stop.CancelAfter(duration);
        }

        var stateDir = Path.GetFullPath(command.StateDir);
        if (StateDirectory.Prepare(stateDir, Console.Out) is { } stateError)
        {
            Console.Error.WriteLine($"blip-sandbox: {stateError}");
            return ExitUsage;
        }

        string? controllerDll = null;
        if (command.Controller && (controllerDll = ControllerProcess.FindExecutable()) is null)
        {
            Console.Error.WriteLine($"blip-sandbox: {ControllerProcess.ExecutableName} is not next to {AppContext.BaseDirectory}; build with dotnet run --project src/Blip.Sandbox, or pass --no-controller");
            return ExitFailed;
        }

        var ownPostgres = command.Controller && command.Store == "postgres" && command.PostgresConnectionString is null;
        if (await Prerequisites.EnsureAsync(Console.Out, ownPostgres, stop.Token) is { } missing)
        {
            Console.Error.WriteLine(missing);
            return ExitFailed;
        }

        SandboxWorld? world = null;
        Postgres.PrivatePostgres? postgres = null;
        var controllers = new List<ControllerProcess>();
        try
        {
            Say($"starting Kubernetes API emulator, GitHub emulator and {command.Vms} VMs (real sshd on 127.0.1.x) in {stateDir}…");
            var webhooks = command.Webhooks ? SandboxWebhooks.Create() : null;
            world = await SandboxWorld.StartAsync(
                new SandboxWorldOptions { StateDir = stateDir, Vms = command.Vms, Repos = command.Repos, WebhookUrl = webhooks?.DeliveryUrl, WebhookSecret = webhooks?.Secret },
                stop.Token);
            Say($"Kubernetes API emulator at {world.Kube.Url}, GitHub emulator at {world.GitHub.Url}");
            Say($"waiting for {command.Vms} VMs to be ready…");
            await world.Pool.WaitForReadyAsync(command.Vms, ReadyTimeout).WaitAsync(stop.Token);
            foreach (var vm in world.Pool.Vms)
            {
                Say($"  VM {vm.Name}: sshd on {vm.Address}:{vm.Port}");
            }

            if (command.Demo)
            {
                Say("writing Secret github-pat and ConfigMap github-actions (runner-labels self-hosted,blip)…");
                await world.WritePatAsync(world.Pat, stop.Token);
                await world.WriteActionsConfigAsync(string.Join(',', DemoRun.RunnerLabels), string.Join(',', command.Repos), stop.Token);
            }

            if (webhooks is not null)
            {
                Say($"writing Secret github-webhook; the GitHub emulator delivers workflow_job events to {webhooks.DeliveryUrl}…");
                await world.UpsertSecretAsync(SandboxWebhooks.SecretName, webhooks.SecretData, stop.Token);
            }

            if (controllerDll is not null)
            {
                string? connectionString = null;
                if (command.Store == "postgres")
                {
                    if (command.PostgresConnectionString is { } given)
                    {
                        connectionString = given;
                        Say("journal: the PostgreSQL given with --postgres (the controllers check it at start)");
                    }
                    else
                    {
                        Say("starting a throwaway PostgreSQL server on 127.0.0.1 for the journal…");
                        postgres = await Postgres.PrivatePostgres.StartAsync(Path.Combine(stateDir, "postgres"), stop.Token);
                        connectionString = await postgres.CreateDatabaseAsync("blip", stop.Token);
                        Say($"  PostgreSQL on 127.0.0.1:{postgres.Port}, database blip, log {postgres.LogPath}");
                    }
                }

                Say($"starting {command.Nodes} controller process(es)…");
                if (command.Nodes > 1 && connectionString is null)
                {
                    Say("  note: with --store sqlite each node keeps its own journal: a job's state does not move with it when its node stops");
                }
                // All nodes start at once, each listing every node as a seed: node 0 forms the cluster, the others join it.
                foreach (var node in ControllerNode.Plan(command.Nodes, connectionString, command.Settings))
                {
                    controllers.Add(ControllerProcess.Start(webhooks?.Receiving(node) ?? node, controllerDll, stateDir, world));
                }

                foreach (var controller in controllers)
                {
                    await controller.WaitUntilJoinedAsync(JoinTimeout, stop.Token);
                    Say($"  controller {controller.Index}: pid {controller.Pid}, {controller.Address}, joined; log {controller.LogPath}");
                }
            }

            var manifest = await SandboxManifest.Of(world, controllers, webhooks).WriteAsync(stateDir, stop.Token);
            PrintWelcome(command, world, stateDir, manifest, controllers);

            if (command.Demo && command.Jobs > 0)
            {
                Say($"demo: queueing {command.Jobs} jobs across {string.Join(", ", command.Repos)} (about 1 in 5 labelled gpu: no runner matches those)…");
                await new DemoRun(world, Console.Out, Terminal).RunAsync(command.Jobs, command.Repos, stop.Token);
            }

            if (!stop.IsCancellationRequested)
            {
                Say(command.Duration is null ? "running; Ctrl-C stops everything" : $"running until --duration {command.Duration.Value.TotalSeconds:F0} s have passed");
            }

            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return ExitOk;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitOk;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or HttpRequestException or k8s.Autorest.HttpOperationException)
        {
            Console.Error.WriteLine($"blip-sandbox: {e.Message}");
            return ExitFailed;
        }
        finally
        {
            Say("stopping: controllers, then VMs and emulators…");
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(controllers.Select(c => c.DisposeAsync().AsTask()));
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }

            if (world is not null)
            {
                await world.DisposeAsync();
            }

            Say($"stopped in {stopping.Elapsed.TotalSeconds:F1} s; nothing left running");
        }
    }

    private static void RequestStop(PosixSignalContext context, CancellationTokenSource stop, string what)
    {
        // Handled here: shutdown must run to the end so no sshd, runner or controller is left behind.
        context.Cancel = true;
        if (stop.IsCancellationRequested)
        {
            Say("still stopping…");
            return;
        }

        Say($"{what}: stopping…");
        stop.Cancel();
    }

    private static void PrintWelcome(SandboxCommand command, SandboxWorld world, string stateDir, string manifest, IReadOnlyList<ControllerProcess> controllers)
    {
        var ns = world.Namespace;
        var o = Console.Out;
        o.WriteLine();
        o.WriteLine("The sandbox is up. In another shell:");
        o.WriteLine($"  export KUBECONFIG={world.AdminKubeconfig}");
        o.WriteLine($"  kubectl get vm -n {ns}");
        o.WriteLine($"  kubectl get configmap,secret -n {ns}");
        o.WriteLine();
        o.WriteLine(command.Demo
            ? "The demo wrote the Secret and the ConfigMap; these are the spec's commands that do it (to change repos or labels):"
            : "Configure Blip as the spec says (--no-demo: nothing is configured yet):");
        o.WriteLine($"  kubectl create secret generic github-pat \\");
        o.WriteLine($"    -n {ns} \\");
        o.WriteLine($"    --from-literal=token=\"{world.Pat}\" \\");
        o.WriteLine("    --dry-run=client -o yaml | kubectl apply -f -");
        o.WriteLine($"  kubectl create configmap github-actions \\");
        o.WriteLine($"    -n {ns} \\");
        o.WriteLine($"    --from-literal=runner-labels=\"{string.Join(',', DemoRun.RunnerLabels)}\" \\");
        o.WriteLine($"    --from-literal=repos=\"{string.Join(',', command.Repos)}\" \\");
        o.WriteLine("    --dry-run=client -o yaml | kubectl apply -f -");
        o.WriteLine();
        o.WriteLine("Queue a job yourself (the GitHub emulator's admin API; a push would do this on GitHub):");
        o.WriteLine($"  curl -s -H 'Authorization: Bearer {world.GitHub.AdminToken}' -H 'Content-Type: application/json' \\");
        o.WriteLine($"    -d '{{\"repo\":\"{command.Repos[0]}\",\"labels\":[\"self-hosted\",\"blip\"],\"durationSeconds\":5}}' {world.GitHub.Url}_sandbox/jobs");
        o.WriteLine();
        o.WriteLine($"Everything about this sandbox (URLs, PAT, VMs, controller pids): {manifest}");
        o.WriteLine($"GitHub emulator: {world.GitHub.Url} (admin API under /_sandbox/, see src/Blip.Sandbox/GitHub/README.md)");
        if (controllers.Count > 0)
        {
            foreach (var c in controllers)
            {
                o.WriteLine($"Controller {c.Index} log: {c.LogPath}");
            }

            foreach (var c in controllers)
            {
                o.WriteLine($"Controller {c.Index} inspect: dotnet run --project src/Blip.Ctl -- --endpoint {c.ManagementUrl} cluster show");
            }
        }
        else
        {
            o.WriteLine("No controller (--no-controller): run one against the emulators with the settings in sandbox.json");
        }

        o.WriteLine($"VM logs: {Path.Combine(stateDir, "pool", "vms")}/<vm>.<n>/ (n counts the VMs made; names are reused)");
        o.WriteLine(command.Duration is null ? "Stop: Ctrl-C (or SIGTERM)" : $"Stops by itself after {command.Duration.Value.TotalSeconds:F0} s, or on Ctrl-C");
        o.WriteLine();
        o.Flush();
    }

    /// <summary>One line of progress. On a terminal through Spectre.Console, so that a line said while the demo's live
    /// table is shown (Ctrl-C) goes above the table instead of into it; padded to the terminal's width, because it is
    /// written over the table's first row.</summary>
    private static void Say(string line)
    {
        if (Terminal is not null)
        {
            Terminal.Write(Align.Left(new Text(line)));
            Terminal.WriteLine();
            return;
        }

        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
