using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blip.Actors.Inspection;

namespace Blip.Ctl;

/// <summary>A failed call, with the exit code it means and one line for stderr.</summary>
public sealed class CtlException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Talks to one management endpoint. Maps transport and HTTP failures to blipctl's exit codes.</summary>
public sealed class ManagementClient(HttpClient http, Uri endpoint, string? token)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The answer as raw JSON text and as <typeparamref name="T"/>.</summary>
    public async Task<(string Raw, T View)> SendAsync<T>(HttpMethod method, string pathAndQuery, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(endpoint, pathAndQuery));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CtlException(ExitCodes.Unreachable, $"cannot reach the management endpoint at {endpoint}: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CtlException(ExitCodes.Unreachable, $"the management endpoint at {endpoint} did not answer in time");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new CtlException(ExitCodes.Unauthorized, token is null
                    ? $"unauthorized: the endpoint at {endpoint} needs a token (--token or ${GlobalOptions.TokenVariable})"
                    : $"unauthorized: the endpoint at {endpoint} refused the token");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CtlException(ExitCodes.Failed, ErrorOf(body) ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} from {request.RequestUri}");
            }

            try
            {
                var view = JsonSerializer.Deserialize<T>(body, Json) ?? throw new JsonException("empty answer");
                return (body, view);
            }
            catch (JsonException e)
            {
                throw new CtlException(ExitCodes.Failed, $"unexpected answer from {request.RequestUri}: {e.Message}");
            }
        }
    }

    public static string Pretty(string json) =>
        JsonNode.Parse(json)?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? json;

    private static string? ErrorOf(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<ErrorView>(body, Json)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
