using System.Diagnostics;

namespace Blip.Actors.IntegrationTests.Inspection;

/// <summary>blipctl run as a process (<c>dotnet blipctl.dll …</c>) from this test's output directory, as an operator runs it.</summary>
public static class Blipctl
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}; stdout: {Stdout}; stderr: {Stderr}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "blipctl.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Never pick up an operator's settings from the environment running the tests.
        start.Environment.Remove("BLIPCTL_ENDPOINT");
        start.Environment.Remove("BLIPCTL_TOKEN");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"blipctl {string.Join(' ', args)} did not exit within 30 s");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
