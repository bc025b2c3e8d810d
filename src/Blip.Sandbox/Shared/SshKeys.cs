namespace Blip.Sandbox.Shared;

/// <summary>ed25519 key pairs made with ssh-keygen (SSH.NET cannot generate keys).</summary>
public static class SshKeys
{
    /// <summary>An OpenSSH private key and its public key line (<c>ssh-ed25519 AAAA... comment</c>).</summary>
    public sealed record KeyPair(string PrivateKeyPath, string PrivateKey, string PublicKeyLine)
    {
        /// <summary>"ssh-ed25519 AAAA...": the first two fields, as the blip.io/host-key annotation holds them.</summary>
        public string PublicKey => string.Join(' ', PublicKeyLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2));
    }

    /// <summary>Writes <paramref name="path"/> (0600) and <paramref name="path"/>.pub, replacing any old pair.</summary>
    public static async Task<KeyPair> GenerateEd25519Async(string path, string comment, CancellationToken ct = default)
    {
        File.Delete(path);
        File.Delete(path + ".pub");
        (await ProcessRunner.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], ct: ct)).EnsureSuccess("ssh-keygen");
        return new KeyPair(path, await File.ReadAllTextAsync(path, ct), (await File.ReadAllTextAsync(path + ".pub", ct)).Trim());
    }
}
