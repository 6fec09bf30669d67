using System.IO.Compression;
using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// Renders a registry as the text exposition format (0.0.4), and its deflate copy, once per scan. Not thread-safe:
/// the publisher calls it under its lock.
/// </summary>
internal sealed class ScrapeRenderer : IDisposable
{
    // Kept across scans: the exposition is a few hundred KB, and a new stream per scan grows through the large
    // object heap, which only a full collection frees.
    private readonly MemoryStream _textBuffer = new();
    private readonly MemoryStream _deflateBuffer = new();

    public RenderedScrape Render(CollectorRegistry registry)
    {
        _textBuffer.SetLength(0);
        registry.CollectAndExportAsTextAsync(_textBuffer).GetAwaiter().GetResult();
        byte[] rendered = _textBuffer.ToArray();
        _deflateBuffer.SetLength(0);
        using (var deflate = new DeflateStream(_deflateBuffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(rendered);
            // A sync flush ends the data on a byte boundary without a final block: each scrape continues the stream
            // with its own small part (the HTTP families) and ends it (GzipBody).
            deflate.Flush();
            byte[] open = _deflateBuffer.ToArray();
            return new RenderedScrape(rendered, open);
        }
    }

    public void Dispose()
    {
        _textBuffer.Dispose();
        _deflateBuffer.Dispose();
    }
}

/// <summary>
/// One scan's exposition text and its raw deflate data, flushed but not finished (<see cref="GzipBody"/> ends it).
/// </summary>
internal sealed record RenderedScrape(ReadOnlyMemory<byte> Text, ReadOnlyMemory<byte> OpenDeflate);
