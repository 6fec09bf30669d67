using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MapsExporter.Configuration;

/// <summary>
/// <c>--web.listen-address</c> as node_exporter takes it: <c>[host]:port</c>. An empty host listens on every
/// address (IPv4 and IPv6); otherwise an IP address (<c>127.0.0.1:10135</c>, <c>[::1]:10135</c>) or <c>localhost</c>.
/// </summary>
internal readonly record struct ListenAddress(IPAddress? Address, bool Localhost, int Port)
{
    public static bool TryParse(string? text, out ListenAddress address, out string problem)
    {
        address = default;
        problem = "";
        int colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon < 0)
        {
            problem = "expected [host]:port, e.g. :10135 or 127.0.0.1:10135";
            return false;
        }

        string host = text[..colon];
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            problem = "the port must be a number from 0 to 65535";
            return false;
        }

        if (host.Length == 0)
        {
            address = new ListenAddress(null, false, port);
            return true;
        }

        if (host == "localhost")
        {
            address = new ListenAddress(null, true, port);
            return true;
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            problem = "write an IPv6 address in brackets, e.g. [::1]:10135";
            return false;
        }

        if (!IPAddress.TryParse(host, out IPAddress? ip))
        {
            problem = $"'{host}' is not an IP address (or localhost, or empty for every address)";
            return false;
        }

        address = new ListenAddress(ip, false, port);
        return true;
    }

    public void ApplyTo(KestrelServerOptions kestrel)
    {
        if (Localhost)
        {
            kestrel.ListenLocalhost(Port);
        }
        else if (Address is null)
        {
            kestrel.ListenAnyIP(Port);
        }
        else
        {
            kestrel.Listen(Address, Port);
        }
    }
}
