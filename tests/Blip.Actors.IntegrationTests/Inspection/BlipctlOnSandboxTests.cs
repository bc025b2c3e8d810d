using System.Text.Json.Nodes;
using Blip.Actors.IntegrationTests.Sandbox.Executable;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>blipctl against the sandbox executable's controller process, at the URL sandbox.json gives for it.</summary>
public sealed class BlipctlOnSandboxTests
{
    [Fact]
    public async Task The_sandbox_controller_is_inspectable_at_the_url_its_manifest_names()
    {
        // --duration counts from the sandbox's own start, so it is only a guard against a leaked process: a short one
        // stopped the controller while a slow machine was still starting the job (the endpoint then refused blipctl).
        // Disposing the sandbox stops it when the test ends.
        await using var sandbox = SandboxProcess.Start("--vms", "2", "--jobs", "1", "--duration", "900");
        var manifestPath = Path.Combine(sandbox.StateDir, "sandbox.json");
        var endpoint = await Deadline.UntilAsync(
            () => Task.FromResult(File.Exists(manifestPath) ? JsonNode.Parse(File.ReadAllText(manifestPath))!["controllers"]!.AsArray().FirstOrDefault()?["managementUrl"]?.GetValue<string>() : null),
            url => url is not null, TimeSpan.FromSeconds(180), $"a controller's managementUrl in sandbox.json; stdout: {sandbox.Stdout} stderr: {sandbox.Stderr}");

        var done = await Deadline.UntilAsync(
            () => Blipctl.RunAsync("jobs", "list", "--state", "done", "--endpoint", endpoint!),
            r => r.ExitCode == 0 && r.Stdout.Contains("Count: 1 jobs", StringComparison.Ordinal), TimeSpan.FromSeconds(120), "the demo job done");
        var cluster = await Blipctl.RunAsync("cluster", "show", "--endpoint", endpoint!);
        var config = await Blipctl.RunAsync("config", "show", "--endpoint", endpoint!);

        Assert.Contains("Completed", done.Stdout);
        Assert.EndsWith("Count: 1 nodes\n", cluster.Stdout);
        Assert.Contains("PAT: present\n", config.Stdout);
        Assert.Contains("Controller 0 inspect: dotnet run --project src/Blip.Ctl -- --endpoint " + endpoint, sandbox.Stdout);
    }
}
