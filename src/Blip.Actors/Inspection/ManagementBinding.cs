using System.Net;

namespace Blip.Actors.Inspection;

/// <summary>
/// Where the management endpoint listens (<c>Blip:ManagementUrl</c>) and whether it needs a bearer token.
/// Loopback only (127.0.0.0/8, ::1, localhost) is open to local callers; any other bind address needs
/// <c>Blip:ManagementToken</c>. A configured token is always required, loopback or not.
/// </summary>
public sealed record ManagementBinding(string Url, bool Loopback, string? Token)
{
    public const string DefaultUrl = "http://127.0.0.1:9110";

    public bool RequiresToken => Token is not null;

    /// <summary>Null binding = disabled (empty URL). Errors name the bad value.</summary>
    public static ManagementBinding? Parse(string? url, string? token, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        var trimmed = url.Trim().TrimEnd('/');
        if (!trimmed.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            error = $"Blip:ManagementUrl '{url}' must be http://HOST:PORT";
            return null;
        }

        var hostPort = trimmed["http://".Length..];
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || hostPort.Contains('/') || !int.TryParse(hostPort[(colon + 1)..], out var port) || port is < 0 or > 65535)
        {
            error = $"Blip:ManagementUrl '{url}' must be http://HOST:PORT (port 0: any free port)";
            return null;
        }

        var host = hostPort[..colon].Trim('[', ']');
        var loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
        var configuredToken = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
        if (!loopback && configuredToken is null)
        {
            error = $"Blip:ManagementToken is required when Blip:ManagementUrl '{url}' listens beyond loopback";
            return null;
        }

        return new ManagementBinding(trimmed, loopback, configuredToken);
    }
}
