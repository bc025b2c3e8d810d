using System.Diagnostics;
using Blip.Actors.IntegrationTests.Sandbox.Executable;
using Blip.Sandbox.Cli;
using Xunit.Abstractions;

namespace Blip.Actors.IntegrationTests.Cluster;

/// <summary>
/// A wrong PostgreSQL connection string stops the controller (and the sandbox that runs it) with one line that names
/// no password. No cluster forms, so these run alongside the other classes, not in the serial cluster collection.
/// </summary>
public sealed class JournalConnectionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_wrong_connection_string_stops_the_controller_with_one_line_naming_no_password()
    {
        const string password = "s3cret-Pa55word";
        var closedPort = ControllerNode.Plan(1, null)[0].Port;
        var (exit, printed) = await RunControllerAsync($"Host=127.0.0.1;Port={closedPort};Username=blip;Password={password};Database=blip;Timeout=3");
        output.WriteLine(printed);
        Assert.Equal(2, exit);
        var line = Assert.Single(printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("blip-controller: cannot reach the PostgreSQL journal at 127.0.0.1:" + closedPort, line, StringComparison.Ordinal);
        Assert.DoesNotContain(password, printed);

        var (badKeywordExit, badKeywordOutput) = await RunControllerAsync($"Hots=127.0.0.1;Password={password}");
        output.WriteLine(badKeywordOutput);
        Assert.Equal(2, badKeywordExit);
        Assert.Single(badKeywordOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Blip:ConnectionString is not a valid PostgreSQL connection string", badKeywordOutput);
        Assert.DoesNotContain(password, badKeywordOutput);
    }

    private static async Task<(int Exit, string Output)> RunControllerAsync(string connectionString)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, ControllerProcess.ExecutableName));
        psi.Environment["Blip__Store"] = "postgres";
        psi.Environment["Blip__ConnectionString"] = connectionString;
        psi.Environment["Blip__Kubeconfig"] = "/nonexistent";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the controller did not fail fast on a wrong connection string");
        }

        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    [Fact]
    public async Task A_wrong_postgres_connection_string_stops_the_sandbox_with_the_controllers_one_line()
    {
        await using var sandbox = SandboxProcess.Start("--nodes", "1", "--postgres", "Host=127.0.0.1;Port=1;Username=blip;Password=not-this-one;Database=blip;Timeout=2", "--vms", "1", "--jobs", "0");
        Assert.Equal(1, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains("cannot reach the PostgreSQL journal at 127.0.0.1:1, database 'blip', user 'blip'", sandbox.Stderr);
        Assert.DoesNotContain("not-this-one", sandbox.Stderr + sandbox.Stdout);
    }
}
