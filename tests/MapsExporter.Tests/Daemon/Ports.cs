using System.Net;
using System.Net.Sockets;

namespace MapsExporter.Tests.Daemon;

public static class Ports
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago, for programs that cannot be told to take port 0.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
