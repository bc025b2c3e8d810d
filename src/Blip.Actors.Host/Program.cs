using Blip.Actors.Hosting;

// The controller executable: options from appsettings, the Blip: section and Blip__* environment variables.
var builder = Host.CreateApplicationBuilder(args);
var options = builder.Configuration.GetSection(BlipOptions.Section).Get<BlipOptions>() ?? new BlipOptions();
builder.Logging.ClearProviders();
// An unknown format is named by the validation below; until then, plain lines.
builder.Logging.AddBlipConsole(options.LogFormat);
try
{
    builder.Services.AddBlipController(options);
    // Before the actor system starts: Akka.Persistence.Sql would only log an unreachable journal and let asks time out.
    JournalConnectivity.EnsureReachable(options, options.StoreConnectTimeout);
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"blip-controller: {e.Message}");
    return 2;
}

using var host = builder.Build();
try
{
    await host.RunAsync();
}
catch (Blip.Actors.Inspection.ManagementEndpointException e)
{
    Console.Error.WriteLine($"blip-controller: {e.Message}");
    return 1;
}

return 0;
