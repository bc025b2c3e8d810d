using System.Diagnostics;

namespace Blip.Sandbox.Shared;

/// <summary>Runs a short-lived tool (ssh-keygen, useradd) to completion and returns what it printed.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public Result EnsureSuccess(string what) =>
            ExitCode == 0 ? this : throw new InvalidOperationException($"{what} failed with exit code {ExitCode}: {StandardError.Trim()}");
    }

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            ct.ThrowIfCancellationRequested();
            throw new TimeoutException($"{fileName} {string.Join(' ', psi.ArgumentList)} did not finish in time");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
