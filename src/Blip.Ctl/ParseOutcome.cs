using System.CommandLine;

namespace Blip.Ctl;

/// <summary>
/// How blipctl, blip-sandbox and blip-bench read a System.CommandLine parse: the library's own answer (help, version,
/// completions), else one usage error on one line, else the program's command. Compiled into each of them (linked).
/// </summary>
internal static class ParseOutcome
{
    /// <summary>What the library itself prints for <c>--help</c>, <c>--version</c> or <c>[suggest]</c>; null when the
    /// command line is for the program (its commands' own actions are the program's to run).</summary>
    public static string? LibraryText(ParseResult result)
    {
        if (result.Action is not { } action || action == result.CommandResult.Command.Action
            || (result.Errors.Count > 0 && !action.ClearsParseErrors))
        {
            return null;
        }

        var text = new StringWriter();
        result.Invoke(new InvocationConfiguration { Output = text, Error = text });
        return text.ToString();
    }

    /// <summary>The first error, on one line without a closing full stop (the library's messages may list allowed values
    /// on lines of their own).</summary>
    public static string? FirstError(ParseResult result) =>
        result.Errors.Count == 0
            ? null
            : string.Join(' ', result.Errors[0].Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');
}
