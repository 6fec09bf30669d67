using System.Net;
using System.Net.Sockets;
using MapsExporter.Configuration;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// The scanner binds the listening sockets of <c>--web.listen-address</c> itself, while it still has its privilege (a
/// port below 1024 needs CAP_NET_BIND_SERVICE, which root has and the web side never does), and hands them to the web
/// side as inherited descriptors, as OpenSSH and nginx do. Bound, not listening: Kestrel calls listen() on them when
/// the web side starts serving (after the first scan), so a client is refused until then, as with one process. The
/// same sockets Kestrel's <c>Listen*</c> would make: <c>localhost</c> is 127.0.0.1 and ::1 (either may be missing),
/// an empty host [::] in dual mode (0.0.0.0 without IPv6), else the one address.
/// </summary>
internal static class ListenSockets
{
    /// <summary>The bound sockets; an <see cref="IOException"/> naming the address when none could be bound.</summary>
    public static IReadOnlyList<Socket> Bind(ListenAddress address)
    {
        if (address.Localhost)
        {
            var bound = new List<Socket>();
            SocketException? first = null;
            foreach (IPAddress loopback in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
            {
                try
                {
                    bound.Add(BindOne(new IPEndPoint(loopback, address.Port)));
                }
                catch (SocketException e)
                {
                    first ??= e;
                }
            }

            return bound.Count > 0 ? bound : throw Failed($"localhost:{address.Port}", first!);
        }

        if (address.Address is null)
        {
            try
            {
                return [BindOne(new IPEndPoint(IPAddress.IPv6Any, address.Port))];
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressFamilyNotSupported)
            {
                return [Bind(new IPEndPoint(IPAddress.Any, address.Port))];
            }
            catch (SocketException e)
            {
                throw Failed($"[::]:{address.Port}", e);
            }
        }

        return [Bind(new IPEndPoint(address.Address, address.Port))];
    }

    private static Socket Bind(IPEndPoint endpoint)
    {
        try
        {
            return BindOne(endpoint);
        }
        catch (SocketException e)
        {
            throw Failed(endpoint.ToString(), e);
        }
    }

    private static Socket BindOne(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // As Kestrel's own listeners: a restart binds while the last one's connections are in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static IOException Failed(string address, SocketException e) =>
        new($"Failed to bind to address {address}: {e.Message}", e);
}
