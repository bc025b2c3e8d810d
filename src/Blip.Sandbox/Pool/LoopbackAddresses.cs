using System.Net;
using System.Net.Sockets;

namespace Blip.Sandbox.Pool;

/// <summary>
/// Hands out 127.0.1.1–127.0.1.254, then 127.0.2.x and on, one per VM, round-robin: each search starts after the
/// last address handed out, so a released address is not reused until the whole range has gone round (like a
/// DHCP server, and so a test probing a deleted VM's old address does not meet a parallel test's new VM there).
/// Unique within this process by bookkeeping and across processes by probing: an address whose port cannot be
/// bound is skipped (another pool's sshd holds it). The probe races with other processes; sshd failing to bind is
/// the backstop.
/// </summary>
internal static class LoopbackAddresses
{
    private const int PerBlock = 254;
    private const int Count = 254 * PerBlock;

    private static readonly Lock Gate = new();
    private static readonly HashSet<(IPAddress, int)> InUse = [];
    private static int _next;

    public static IPAddress Allocate(int port, IReadOnlySet<IPAddress>? avoid = null)
    {
        lock (Gate)
        {
            for (var step = 0; step < Count; step++)
            {
                var index = (_next + step) % Count;
                var address = new IPAddress([127, 0, (byte)(1 + (index / PerBlock)), (byte)(1 + (index % PerBlock))]);
                if (InUse.Contains((address, port)) || (avoid?.Contains(address) ?? false) || !CanBind(address, port))
                {
                    continue;
                }

                InUse.Add((address, port));
                _next = index + 1;
                return address;
            }
        }
        throw new InvalidOperationException($"no free loopback address for port {port} in 127.0.1.0–127.0.254.255");
    }

    public static void Release(IPAddress address, int port)
    {
        lock (Gate)
        {
            InUse.Remove((address, port));
        }
    }

    private static bool CanBind(IPAddress address, int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(1);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
