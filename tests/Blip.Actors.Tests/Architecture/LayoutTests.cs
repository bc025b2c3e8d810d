using System.Text.RegularExpressions;

namespace Blip.Actors.Tests.Architecture;

/// <summary>
/// The shape the code promises (README "Layout"): the feature folders of src/Blip.Actors depend on each other
/// without a cycle, judged from the <c>using Blip.Actors.*</c> lines of their files, and no source file grows past
/// 350 lines. Read from the source tree, so a change that breaks either fails here, naming the files.
/// </summary>
public sealed partial class LayoutTests
{
    private const int MaxLines = 350;

    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Blip.Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Blip.Actors.sln above {AppContext.BaseDirectory}");
    }

    private static IEnumerable<string> SourceFiles(string under) =>
        Directory.EnumerateFiles(Path.Combine(Root, under), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    /// <summary>Folder → the folders its files use, with one file per arrow as the witness.</summary>
    private static Dictionary<string, Dictionary<string, string>> FolderDependencies()
    {
        var src = Path.Combine(Root, "src", "Blip.Actors");
        var arrows = new Dictionary<string, Dictionary<string, string>>();
        foreach (var file in SourceFiles(Path.Combine("src", "Blip.Actors")))
        {
            var relative = Path.GetRelativePath(src, file);
            var folder = relative.Contains(Path.DirectorySeparatorChar) ? relative[..relative.IndexOf(Path.DirectorySeparatorChar)] : "(root)";
            var uses = arrows.TryGetValue(folder, out var u) ? u : arrows[folder] = [];
            foreach (Match m in UsingLine().Matches(File.ReadAllText(file)))
            {
                var used = m.Groups[1].Value;
                if (used != folder)
                {
                    uses.TryAdd(used, relative);
                }
            }
        }

        return arrows;
    }

    [Fact]
    public void The_feature_folders_depend_on_each_other_without_a_cycle()
    {
        var arrows = FolderDependencies();
        var cycles = new List<string>();
        foreach (var (from, uses) in arrows)
        {
            foreach (var (to, witness) in uses)
            {
                if (PathBetween(arrows, to, from) is { } back)
                {
                    cycles.Add($"{from} → {to} ({witness}), and back: {string.Join(" → ", back)}");
                }
            }
        }

        Assert.True(arrows.Count >= 10, $"expected the feature folders of src/Blip.Actors, found {string.Join(", ", arrows.Keys)}");
        Assert.True(cycles.Count == 0, "folders in a cycle:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void Only_the_composition_root_uses_hosting()
    {
        var users = FolderDependencies().Where(a => a.Key != "Hosting" && a.Value.ContainsKey("Hosting")).Select(a => $"{a.Key} ({a.Value["Hosting"]})");
        Assert.Empty(users);
    }

    [Fact]
    public void No_source_file_is_longer_than_350_lines()
    {
        var tooLong = SourceFiles("src")
            .Select(f => (File: Path.GetRelativePath(Root, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > MaxLines)
            .Select(f => $"{f.File}: {f.Lines} lines");
        Assert.Empty(tooLong);
    }

    private static List<string>? PathBetween(Dictionary<string, Dictionary<string, string>> arrows, string from, string to)
    {
        var seen = new HashSet<string>();
        var queue = new Queue<List<string>>([[from]]);
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            var last = path[^1];
            if (last == to)
            {
                return path;
            }

            if (!seen.Add(last) || !arrows.TryGetValue(last, out var next))
            {
                continue;
            }

            foreach (var n in next.Keys)
            {
                queue.Enqueue([.. path, n]);
            }
        }

        return null;
    }

    [GeneratedRegex(@"^using\s+(?:static\s+)?Blip\.Actors\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingLine();
}
