using System.Collections.Concurrent;
using System.Net;

namespace MapsExporter.Web;

/// <summary>
/// Failed basic authentication at Warning: the client's address, never the user name or password, and at most one
/// line per client a minute (the next line says how many were not logged), so a client guessing passwords cannot
/// flood the journal. A request without credentials is the browser's first try, not a failure: not logged here.
/// At most <see cref="MaxClients"/> clients are remembered; past that, failures are counted, not logged, until a
/// minute has passed.
/// </summary>
internal sealed partial class AuthFailureLog(ILogger<AuthFailureLog> logger, TimeProvider time)
{
    public const int MaxClients = 4096;
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, Client> _clients = new(StringComparer.Ordinal);
    private long _dropped;

    public void Failed(IPAddress? address)
    {
        string client = address?.ToString() ?? "unknown";
        long now = time.GetTimestamp();
        if (!_clients.ContainsKey(client) && _clients.Count >= MaxClients)
        {
            foreach (var (key, value) in _clients)
            {
                if (value.Last is not { } last || time.GetElapsedTime(last, now) >= Period)
                {
                    _clients.TryRemove(key, out _);
                }
            }

            if (_clients.Count >= MaxClients)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
        }

        Client state = _clients.GetOrAdd(client, _ => new Client(null));
        long suppressed;
        lock (state)
        {
            if (state.Last is { } last && time.GetElapsedTime(last, now) < Period)
            {
                state.Suppressed++;
                return;
            }

            state.Last = now;
            suppressed = state.Suppressed;
            state.Suppressed = 0;
        }

        LogFailed(logger, client, suppressed + Interlocked.Exchange(ref _dropped, 0));
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Basic authentication failed for a request from {ClientAddress} ({Suppressed} more failures not logged since the last line for it; at most one line per client a minute)")]
    private static partial void LogFailed(ILogger logger, string clientAddress, long suppressed);

    private sealed class Client(long? last)
    {
        /// <summary>When its last line was written (a <see cref="TimeProvider"/> timestamp).</summary>
        public long? Last { get; set; } = last;

        public long Suppressed { get; set; }
    }
}
