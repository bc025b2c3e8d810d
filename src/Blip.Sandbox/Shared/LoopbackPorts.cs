using System.Net;
using System.Net.Sockets;

namespace Blip.Sandbox.Shared;

/// <summary>
/// A loopback TCP port that is free now, for a server that must know its port before it starts (a controller's
/// cluster address, a webhook URL given to the GitHub emulator). Chosen below Linux's ephemeral range
/// (32768–60999), so the outgoing connections of everything running in parallel cannot take it meanwhile.
/// </summary>
public static class LoopbackPorts
{
    private const int First = 20000;
    private const int Last = 32767;

    public static int Free()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(First, Last + 1);
            var listener = new TcpListener(IPAddress.Loopback, port);
            try
            {
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another one.
            }
            finally
            {
                listener.Stop();
            }
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }
}
