using Blip.Sandbox.GitHub;

namespace Blip.Actors.IntegrationTests.Sandbox.GitHub;

/// <summary>A fresh emulator per test serving <c>repos</c>, with its admin client.</summary>
public abstract class EmulatorTestBase(params string[] repos) : IAsyncLifetime
{
    protected GitHubEmulator Emulator { get; private set; } = null!;

    protected GitHubSandboxClient Admin { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Emulator = await GitHubEmulator.StartAsync(new GitHubEmulatorOptions { Repos = repos });
        Admin = Emulator.CreateAdminClient();
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Emulator.DisposeAsync();
    }
}
