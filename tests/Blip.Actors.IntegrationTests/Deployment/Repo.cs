using System.Diagnostics;
using System.Xml.Linq;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>Paths in the repository (found by walking up to Blip.Actors.sln) and small process helpers.</summary>
internal static class Repo
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Blip.Actors.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Blip.Actors.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => RootPath.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    /// <summary>The AssemblyName of a project (its file name without extension when it sets none).</summary>
    public static string AssemblyNameOf(string csprojPath)
    {
        var doc = XDocument.Load(csprojPath);
        var name = doc.Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0);
        return name ?? Path.GetFileNameWithoutExtension(csprojPath);
    }

    /// <summary>The project files a project references, transitively, itself included (absolute paths).</summary>
    public static IReadOnlySet<string> ProjectClosure(string csprojPath)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>([Path.GetFullPath(csprojPath)]);
        while (todo.TryPop(out var project))
        {
            if (!seen.Add(project))
            {
                continue;
            }
            var dir = Path.GetDirectoryName(project)!;
            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")?.Value ?? "";
                todo.Push(Path.GetFullPath(Path.Combine(dir, include.Replace('\\', '/'))));
            }
        }
        return seen;
    }

    public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr);

    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> args, IDictionary<string, string?>? env = null,
        string? workingDirectory = null, string? stdin = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Root,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            psi.Environment[k] = v;
        }
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', psi.ArgumentList)} did not finish in time");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
