using System.Collections;
using Blip.Ctl;

// blipctl: Petabridge.Cmd's vocabulary over the controller's management endpoint (blipctl --help).
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
return await Cli.RunAsync(args, environment, Console.Out, Console.Error, cancel.Token);
