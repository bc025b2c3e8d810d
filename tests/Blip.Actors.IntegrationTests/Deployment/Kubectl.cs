namespace Blip.Actors.IntegrationTests.Deployment;

/// <summary>
/// Runs <c>kubectl kustomize</c> offline. /usr/bin/kubectl here is a version dispatcher (it may ask a
/// server for /version first); an empty HOME, KUBECONFIG pointing at a missing file and a private
/// KUBECACHEDIR keep it away from any cluster and from the user's files. BLIP_KUBECTL overrides the binary.
/// </summary>
internal static class Kubectl
{
    public static string Binary =>
        Environment.GetEnvironmentVariable("BLIP_KUBECTL") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/kubectl") ? "/usr/bin/kubectl"
        : "kubectl";

    public static async Task<Repo.ProcessResult> KustomizeAsync(string directory)
    {
        var home = Directory.CreateTempSubdirectory("blip-kubectl-");
        try
        {
            var env = new Dictionary<string, string?>
            {
                ["HOME"] = home.FullName,
                ["KUBECONFIG"] = Path.Combine(home.FullName, "no-such-kubeconfig"),
                ["KUBECACHEDIR"] = Path.Combine(home.FullName, "cache"),
            };
            return await Repo.RunAsync(Binary, ["kustomize", directory], env, timeout: TimeSpan.FromSeconds(60));
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
