using System.Text.RegularExpressions;

namespace Blip.Actors.Shared;

/// <summary>A GitHub repository as <c>owner/name</c>, validated by GitHub's own naming rules. Equal regardless of case,
/// as on GitHub (<c>Acme/API</c> in the ConfigMap is the <c>acme/api</c> GitHub names in its replies); it keeps the
/// spelling it was made with.</summary>
public sealed partial record RepoName(string Owner, string Name)
{
    public string FullName => $"{Owner}/{Name}";

    public bool Equals(RepoName? other) =>
        other is not null
        && string.Equals(Owner, other.Owner, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Name, other.Name, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => HashCode.Combine(
        StringComparer.OrdinalIgnoreCase.GetHashCode(Owner), StringComparer.OrdinalIgnoreCase.GetHashCode(Name));

    public override string ToString() => FullName;

    // Owners: alphanumerics and single inner hyphens, at most 39 characters (GitHub's account rule).
    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")]
    private static partial Regex OwnerPattern();

    // Repository names: letters, digits, '.', '-', '_', at most 100 characters, not '.' or '..'.
    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex NamePattern();

    /// <summary>Parses one trimmed entry; on failure <paramref name="error"/> names the entry and what is wrong.</summary>
    public static bool TryParse(string entry, out RepoName? repo, out string? error)
    {
        repo = null;
        var parts = entry.Split('/');
        if (parts.Length != 2)
        {
            error = $"repo '{Shorten(entry)}' is not of the form owner/name";
            return false;
        }

        var (owner, name) = (parts[0], parts[1]);
        if (!OwnerPattern().IsMatch(owner))
        {
            error = $"repo '{Shorten(entry)}' has an invalid owner '{Shorten(owner)}'";
            return false;
        }

        if (!NamePattern().IsMatch(name) || name is "." or "..")
        {
            error = $"repo '{Shorten(entry)}' has an invalid name '{Shorten(name)}'";
            return false;
        }

        repo = new RepoName(owner, name);
        error = null;
        return true;
    }

    public static RepoName Parse(string entry) =>
        TryParse(entry, out var repo, out var error) ? repo! : throw new FormatException(error);

    /// <summary>Keeps log lines readable when a value is huge (a 100 KB ConfigMap value, say).</summary>
    internal static string Shorten(string value, int max = 120) =>
        value.Length <= max ? value : $"{value[..max]}… ({value.Length} chars)";
}
