using System.Net.Sockets;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// The web side's end of the socket pair: one request at a time, each answered within <see cref="Timeout"/>. When the
/// scanner's end closes or answers outside the format, the client is broken for good: every request is then
/// answered 503 (never an old answer) and the web side stops with exit 1, since it only ever serves the scanner
/// that started it.
/// </summary>
internal sealed class ScannerClient(Stream connection, IHostApplicationLifetime lifetime, ILogger<ScannerClient> logger) : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _one = new(1, 1);
    private volatile bool _broken;

    /// <summary>Set once the scanner's connection broke: the web side then ends with exit 1.</summary>
    public bool Broken => _broken;

    public static ScannerClient FromDescriptor(int fd, IHostApplicationLifetime lifetime, ILogger<ScannerClient> logger) =>
        new(new NetworkStream(new Socket(new SafeSocketHandle(fd, ownsHandle: true)), ownsSocket: true), lifetime, logger);

    /// <summary>
    /// Sends <paramref name="kind"/> (<see cref="IpcKind.Ready"/>, <see cref="IpcKind.Listening"/>) and waits for its
    /// answer with no time limit (the first scan may be long); false when the scanner is gone.
    /// </summary>
    public async Task<bool> HandshakeAsync(IpcKind kind, CancellationToken cancellationToken)
    {
        // One request at a time here too: Listening is sent once Kestrel listens, when a scrape may already ask.
        await _one.WaitAsync(cancellationToken);
        try
        {
            await connection.WriteAsync(IpcFrames.Encode(new IpcRequest(kind, "")), cancellationToken);
            await IpcFrames.ReadResponseAsync(connection, kind, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or IpcFormatException)
        {
            Break(e.Message);
            return false;
        }
        finally
        {
            _one.Release();
        }
    }

    /// <summary>The scanner's answer, or null when it cannot answer (gone, broken or too slow).</summary>
    public async Task<IpcResponse?> AskAsync(IpcRequest request, CancellationToken cancellationToken)
    {
        if (_broken)
        {
            return null;
        }

        byte[] frame = IpcFrames.Encode(request);
        await _one.WaitAsync(cancellationToken);
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            if (_broken)
            {
                return null;
            }

            // Not the client's abort: a half-read answer would leave the stream out of step.
            await connection.WriteAsync(frame, timeout.Token);
            return await IpcFrames.ReadResponseAsync(connection, request.Kind, timeout.Token);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or IpcFormatException or OperationCanceledException or ObjectDisposedException)
        {
            Break(e is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds} s" : e.Message);
            return null;
        }
        finally
        {
            _one.Release();
        }
    }

    private void Break(string reason)
    {
        if (_broken)
        {
            return;
        }

        _broken = true;
        logger.LogError("The scanner's connection broke ({Reason}): answering 503 and stopping", reason);
        lifetime.StopApplication();
    }

    public void Dispose()
    {
        connection.Dispose();
        _one.Dispose();
    }
}
