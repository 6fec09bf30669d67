using MapsExporter.Metrics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// The scanner's server in place of Kestrel: no listener, only the web side's socket. Each request frame runs
/// through the same ASP.NET pipeline and endpoints the one-process daemon serves (pages and API documents render
/// here, beside the data), answered as one response frame. One request at a time: every answer is a few
/// milliseconds of already-scanned data, and the web side queues. A frame that breaks the format ends the
/// connection (the web side is then restarted), never the scanner.
/// </summary>
internal sealed class ScannerServer : IServer
{
    private readonly MetricsPublisher _publisher;
    private readonly ILogger<ScannerServer> _logger;
    private readonly TaskCompletionSource _scanned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<IFeatureCollection, Task>? _handle;

    public ScannerServer(MetricsPublisher publisher, ILogger<ScannerServer> logger)
    {
        _publisher = publisher;
        _logger = logger;
    }

    /// <summary>Completes when the web side says it listens.</summary>
    public Task WebListening => _listening.Task;

    /// <summary>The first scan is published (<see cref="ScannerStartGate"/>): the web side may listen.</summary>
    public void MarkScanned() => _scanned.TrySetResult();

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        Func<IFeatureCollection, Task> handle = async features =>
        {
            TContext context = application.CreateContext(features);
            Exception? failure = null;
            try
            {
                await application.ProcessRequestAsync(context);
            }
            catch (Exception e)
            {
                failure = e;
                features.Get<IHttpResponseFeature>()!.StatusCode = StatusCodes.Status500InternalServerError;
                _logger.LogError(e, "Answering the web side failed");
            }

            application.DisposeContext(context, failure);
        };
        Volatile.Write(ref _handle, handle);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }

    /// <summary>Answers requests from <paramref name="connection"/> until it ends, breaks the format or is cancelled.</summary>
    public async Task ServeAsync(Stream connection, CancellationToken cancellationToken)
    {
        try
        {
            while (await IpcFrames.ReadRequestAsync(connection, cancellationToken) is { } request)
            {
                IpcResponse response = request.Kind switch
                {
                    IpcKind.Metrics => await MetricsAsync(cancellationToken),
                    IpcKind.Ready => await ReadyAsync(cancellationToken),
                    IpcKind.Listening => Listening(),
                    _ => await PageAsync(request.Target),
                };
                await connection.WriteAsync(IpcFrames.Encode(response), cancellationToken);
            }
        }
        catch (IpcFormatException e)
        {
            _logger.LogWarning("The web side sent a bad frame: {Problem}; closing its connection", e.Message);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            _logger.LogDebug("The web side's connection ended: {Reason}", e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<IpcResponse> ReadyAsync(CancellationToken cancellationToken)
    {
        await _scanned.Task.WaitAsync(cancellationToken);
        return new IpcResponse(IpcKind.Ready, StatusCodes.Status200OK, "", []);
    }

    private IpcResponse Listening()
    {
        _listening.TrySetResult();
        return new IpcResponse(IpcKind.Listening, StatusCodes.Status200OK, "", []);
    }

    private async Task<IpcResponse> MetricsAsync(CancellationToken cancellationToken)
    {
        RenderedScrape? rendered = _publisher.Rendered;
        byte[] plain = [];
        if (rendered is null)
        {
            using var buffer = new MemoryStream();
            await _publisher.WriteAsync(buffer, cancellationToken);
            plain = buffer.ToArray();
        }

        return new IpcResponse(IpcKind.Metrics, StatusCodes.Status200OK, "", IpcScrape.Encode(rendered, plain));
    }

    private async Task<IpcResponse> PageAsync(string target)
    {
        if (Volatile.Read(ref _handle) is not { } handle)
        {
            return new IpcResponse(IpcKind.Page, StatusCodes.Status503ServiceUnavailable, "text/plain; charset=utf-8", "starting\n"u8.ToArray());
        }

        int query = target.IndexOf('?', StringComparison.Ordinal);
        using var body = new MemoryStream();
        var request = new HttpRequestFeature
        {
            Method = HttpMethods.Get,
            Scheme = "http",
            Protocol = "HTTP/1.1",
            Path = Uri.UnescapeDataString(query < 0 ? target : target[..query]),
            RawTarget = target,
            QueryString = query < 0 ? "" : target[query..],
        };
        var response = new HttpResponseFeature();
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(request);
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        await handle(features);
        string type = response.Headers.ContentType.ToString();
        return new IpcResponse(IpcKind.Page, response.StatusCode, type.Length <= IpcFrames.MaxContentType ? type : "", body.ToArray());
    }
}
