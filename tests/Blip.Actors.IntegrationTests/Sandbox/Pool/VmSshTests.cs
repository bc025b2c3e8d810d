using System.Net.Sockets;
using System.Text;
using Blip.Actors.IntegrationTests.Infrastructure;
using Blip.Sandbox.Pool;
using Renci.SshNet.Common;

namespace Blip.Actors.IntegrationTests.Sandbox.Pool;

/// <summary>Pool VMs reached like the controller reaches them: SSH.NET, the key from the Secret, the host key pinned.</summary>
public sealed class VmSshTests(KubeWorld world) : IClassFixture<KubeWorld>
{
    [Fact]
    public async Task Pinned_host_key_and_the_secrets_client_key_get_a_runner_shell_on_that_vm()
    {
        var (vm, info) = await world.ReadyVmAsync();
        var annotations = vm["metadata"]!["annotations"]!;
        Assert.StartsWith("ssh-ed25519 AAAA", annotations[VmPool.HostKeyAnnotation]!.GetValue<string>());
        Assert.StartsWith("ssh-ed25519 AAAA", annotations[VmPool.ClientKeyAnnotation]!.GetValue<string>());

        using var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, await world.ClientKeyAsync(), KubeWorld.HostKeyOf(vm));
        await ssh.ConnectAsync(CancellationToken.None);
        using var cmd = ssh.CreateCommand("echo $BLIP_VM_NAME; id -un");
        cmd.CommandTimeout = KubeWorld.Deadline;
        await cmd.ExecuteAsync();

        Assert.Equal(0, cmd.ExitStatus);
        Assert.Equal($"{info.Name}\nrunner\n", cmd.Result);
        Assert.Equal(22, info.Port);
        Assert.StartsWith("127.0.", info.Address.ToString());
    }

    [Fact]
    public async Task A_vm_presenting_a_key_other_than_the_pinned_one_is_refused()
    {
        var (vm, info) = await world.ReadyVmAsync();
        var (other, _) = await world.ReadyVmAsync(except: n => n == info.Name);
        Assert.NotEqual(KubeWorld.HostKeyOf(vm), KubeWorld.HostKeyOf(other));

        using var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, await world.ClientKeyAsync(), KubeWorld.HostKeyOf(other));
        var refused = await Assert.ThrowsAsync<SshConnectionException>(() => ssh.ConnectAsync(CancellationToken.None));
        Assert.Contains("Host key could not be verified", refused.Message);
    }

    [Fact]
    public async Task A_secret_on_stdin_reaches_the_command_and_a_detached_process_survives_the_disconnect()
    {
        var (vm, info) = await world.ReadyVmAsync();
        var secret = "jit-" + Guid.NewGuid();
        string pid;
        using (var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, await world.ClientKeyAsync(), KubeWorld.HostKeyOf(vm)))
        {
            await ssh.ConnectAsync(CancellationToken.None);
            using var write = ssh.CreateCommand("cat > \"$BLIP_VM_DIR/x\"");
            write.CommandTimeout = KubeWorld.Deadline;
            var running = write.ExecuteAsync();
            using (var stdin = write.CreateInputStream())
            {
                await stdin.WriteAsync(Encoding.UTF8.GetBytes(secret));
            }
            await running;
            Assert.Equal(0, write.ExitStatus);

            using var detach = ssh.CreateCommand("nohup sleep 300 >/dev/null 2>&1 </dev/null & echo $!");
            detach.CommandTimeout = KubeWorld.Deadline;
            await detach.ExecuteAsync();
            pid = detach.Result.Trim();
        }

        Assert.Equal(secret, await File.ReadAllTextAsync(Path.Combine(info.HomeDir, "x")));
        // The session printed the pid before nohup's exec of sleep may have ended: /proc/PID/environ reads empty while a
        // process is mid-exec (this assertion once saw no process with the VM's environment). Wait until the detached
        // process shows it; a process killed at the disconnect never does, and the failure says what /proc held.
        var entry = $"BLIP_VM_NAME={info.Name}";
        await Blip.Sandbox.Shared.Deadline.UntilAsync(() => Task.FromResult(ProcState.Of(int.Parse(pid))), d => d.Environment.Contains(entry),
            KubeWorld.Deadline, $"process {pid} (the detached sleep) alive with {entry} in its environment");
        Assert.Contains(int.Parse(pid), KubeWorld.ProcessesWithEnvironment(entry));
    }

    /// <summary>What /proc says of a process: its name and environment entries (none when it is gone), for the failure line.</summary>
    private sealed record ProcState(string Comm, string[] Environment)
    {
        public static ProcState Of(int pid)
        {
            try
            {
                return new(File.ReadAllText($"/proc/{pid}/comm").Trim(), File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new($"gone ({e.GetType().Name})", []);
            }
        }

        public override string ToString() => $"{Comm}, {Environment.Length} environment entries: {string.Join(" ", Environment.Where(e => e.StartsWith("BLIP_", StringComparison.Ordinal)))}";
    }
}

/// <summary>VMs that misbehave the ways real ones do, for the controller's failure paths.</summary>
public sealed class VmMisbehaviourTests
{
    [Fact]
    public async Task Misbehaving_vm_presents_a_wrong_key_refuses_or_hangs_and_then_recovers()
    {
        await using var world = await KubeWorld.StartAsync(1);
        var (vm, info) = await world.ReadyVmAsync();
        var key = await world.ClientKeyAsync();
        var pinned = KubeWorld.HostKeyOf(vm);

        await world.Pool.SetMisbehaviourAsync(info.Name, VmMisbehaviour.WrongHostKey);
        using (var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, key, pinned))
        {
            await Assert.ThrowsAsync<SshConnectionException>(() => ssh.ConnectAsync(CancellationToken.None));
        }

        await world.Pool.SetMisbehaviourAsync(info.Name, VmMisbehaviour.RefuseConnections);
        using (var tcp = new TcpClient())
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => tcp.ConnectAsync(info.Address, info.Port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        await world.Pool.SetMisbehaviourAsync(info.Name, VmMisbehaviour.HangHandshake);
        using (var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, key, pinned))
        {
            ssh.ConnectionInfo.Timeout = TimeSpan.FromSeconds(1);
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            var hung = await Record.ExceptionAsync(() => ssh.ConnectAsync(giveUp.Token));
            Assert.True(hung is SshOperationTimeoutException or OperationCanceledException, hung?.ToString() ?? "connected to a hanging VM");
        }

        await world.Pool.SetMisbehaviourAsync(info.Name, VmMisbehaviour.None);
        using (var ssh = KubeWorld.PinnedSshClient(info.Address, info.Port, key, pinned))
        {
            await ssh.ConnectAsync(CancellationToken.None);
            Assert.True(ssh.IsConnected);
        }
    }
}
