using System.Net;
using System.Net.Sockets;

namespace Blip.Sandbox.Pool;

/// <summary>
/// Hands out 127.0.1.1–127.0.1.254, then 127.0.2.x and on, one per VM. Unique within this process by
/// bookkeeping and across processes by probing: an address whose port cannot be bound is skipped
/// (another pool's sshd holds it). The probe races with other processes; sshd failing to bind is the backstop.
/// </summary>
internal static class LoopbackAddresses
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<(IPAddress, int)> InUse = [];

    public static IPAddress Allocate(int port, IReadOnlySet<IPAddress>? avoid = null)
    {
        lock (Gate)
        {
            for (var third = 1; third < 255; third++)
            {
                for (var fourth = 1; fourth < 255; fourth++)
                {
                    var address = new IPAddress([127, 0, (byte)third, (byte)fourth]);
                    if (InUse.Contains((address, port)) || (avoid?.Contains(address) ?? false) || !CanBind(address, port)) continue;
                    InUse.Add((address, port));
                    return address;
                }
            }
        }
        throw new InvalidOperationException($"no free loopback address for port {port} in 127.0.1.0–127.0.254.255");
    }

    public static void Release(IPAddress address, int port)
    {
        lock (Gate) InUse.Remove((address, port));
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
