using System.IO.Compression;
using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// Renders a registry as the text exposition format (0.0.4) and a gzip copy of it, once per scan. Not thread-safe:
/// the publisher calls it under its lock.
/// </summary>
internal sealed class ScrapeRenderer : IDisposable
{
    // Kept across scans: the exposition is a few hundred KB, and a new stream per scan grows through the large
    // object heap, which only a full collection frees.
    private readonly MemoryStream _textBuffer = new();
    private readonly MemoryStream _gzipBuffer = new();

    public RenderedScrape Render(CollectorRegistry registry)
    {
        _textBuffer.SetLength(0);
        registry.CollectAndExportAsTextAsync(_textBuffer).GetAwaiter().GetResult();
        byte[] rendered = _textBuffer.ToArray();
        _gzipBuffer.SetLength(0);
        using (var gzip = new GZipStream(_gzipBuffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(rendered);
        }

        return new RenderedScrape(rendered, _gzipBuffer.ToArray());
    }

    public void Dispose()
    {
        _textBuffer.Dispose();
        _gzipBuffer.Dispose();
    }
}

/// <summary>One scan's exposition text, and a gzip copy for scrapers that accept it (Prometheus does).</summary>
internal sealed record RenderedScrape(byte[] Text, byte[] Gzip);
