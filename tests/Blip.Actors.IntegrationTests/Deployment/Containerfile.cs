using System.Text.Json;

namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>One instruction of a Containerfile: keyword (upper case), its flags (--from=..., --chown=...) and arguments.</summary>
internal sealed record Instruction(int Stage, string Keyword, IReadOnlyDictionary<string, string> Flags, string Arguments)
{
    /// <summary>Exec-form JSON array, or the shell-form words.</summary>
    public IReadOnlyList<string> Words =>
        Arguments.TrimStart().StartsWith('[')
            ? JsonSerializer.Deserialize<string[]>(Arguments) ?? []
            : Arguments.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>A small Containerfile reader: comments dropped, continuation lines joined, stages numbered from 0.</summary>
internal sealed class Containerfile
{
    public IReadOnlyList<Instruction> Instructions { get; }
    public int LastStage => Instructions.Max(i => i.Stage);

    private Containerfile(IReadOnlyList<Instruction> instructions) => Instructions = instructions;

    public static Containerfile Load(string path)
    {
        var logical = new List<string>();
        var current = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith('#') || (current.Length == 0 && line.Trim().Length == 0))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }
            logical.Add(current + line);
            current = "";
        }
        if (current.Length > 0)
        {
            logical.Add(current);
        }

        var stage = -1;
        var instructions = new List<Instruction>();
        foreach (var line in logical)
        {
            var trimmed = line.Trim();
            var space = trimmed.IndexOfAny([' ', '\t']);
            var keyword = (space < 0 ? trimmed : trimmed[..space]).ToUpperInvariant();
            var rest = space < 0 ? "" : trimmed[(space + 1)..].Trim();
            var flags = new Dictionary<string, string>(StringComparer.Ordinal);
            while (rest.StartsWith("--", StringComparison.Ordinal))
            {
                var end = rest.IndexOf(' ');
                var flag = end < 0 ? rest : rest[..end];
                var eq = flag.IndexOf('=');
                flags[eq < 0 ? flag[2..] : flag[2..eq]] = eq < 0 ? "" : flag[(eq + 1)..];
                rest = end < 0 ? "" : rest[(end + 1)..].TrimStart();
            }
            if (keyword == "FROM")
            {
                stage++;
            }
            instructions.Add(new Instruction(stage, keyword, flags, rest));
        }
        return new Containerfile(instructions);
    }

    public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    public IEnumerable<Instruction> InStage(int stage, string keyword) => All(keyword).Where(i => i.Stage == stage);

    /// <summary>Sources of COPY/ADD instructions that read the build context (no --from).</summary>
    public IEnumerable<string> ContextSources() =>
        Instructions.Where(i => i.Keyword is "COPY" or "ADD" && !i.Flags.ContainsKey("from"))
            .SelectMany(i => i.Words.Take(i.Words.Count - 1));

    /// <summary>The whole text of RUN instructions (one string per instruction).</summary>
    public IEnumerable<string> RunScripts() => All("RUN").Select(i => i.Arguments);

    /// <summary>The value of an ARG (its default), or null.</summary>
    public string? Arg(string name) =>
        All("ARG").Select(i => i.Arguments.Split('=', 2)).Where(p => p[0].Trim() == name).Select(p => p.Length > 1 ? p[1].Trim() : "").FirstOrDefault();
}
