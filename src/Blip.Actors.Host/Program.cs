using Blip.Actors.Hosting;
using Microsoft.Extensions.Logging.Console;

// The controller executable: options from appsettings, the Blip: section and Blip__* environment variables.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
    o.UseUtcTimestamp = true;
    o.ColorBehavior = LoggerColorBehavior.Disabled;
});

var options = builder.Configuration.GetSection(BlipOptions.Section).Get<BlipOptions>() ?? new BlipOptions();
try
{
    builder.Services.AddBlipController(options);
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
