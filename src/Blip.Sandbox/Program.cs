// blip-sandbox: the whole Blip world on this machine (see Cli/SandboxApp.cs and DESIGN.md §7).
return await Blip.Sandbox.Cli.SandboxApp.RunAsync(args);
