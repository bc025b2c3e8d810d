namespace Blip.Actors.Ssh;

/// <summary>The settings the SSH adapter reads; bound and validated as part of <c>Hosting.BlipOptions</c> (same names).</summary>
public sealed class SshOptions
{
    public string SshUser { get; init; } = "runner";
    public int SshPort { get; init; } = 22;
    public string RunnerDir { get; init; } = "/home/runner/actions-runner";

    /// <summary>Runners older than this are not started (a <c>runner_outdated</c> configuration fault); empty: off.</summary>
    public string RunnerMinimumVersion { get; init; } = "";
}
