using MapsExporter.Metrics;

namespace MapsExporter.Web;

/// <summary><c>/metrics</c>: the last scan's families, rendered once per scan, then the HTTP families, rendered now.</summary>
internal static class MetricsEndpoint
{
    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static Task WriteAsync(HttpContext context, MetricsPublisher publisher, HttpMetrics http) =>
        WriteScrapeAsync(context, publisher.Rendered, publisher.WriteAsync, http);

    /// <summary>The scan's parts (from this process's publisher, or the scanner's over the socket), then the HTTP families.</summary>
    public static async Task WriteScrapeAsync(HttpContext context, RenderedScrape? scan, Func<Stream, CancellationToken, Task> writeUnrendered, HttpMetrics http)
    {
        context.Response.ContentType = ContentType;
        byte[] tail = await http.RenderAsync(context.RequestAborted);
        if (scan is not { } rendered)
        {
            // Before the first scan: every family, with no process series yet, rendered now.
            await writeUnrendered(context.Response.Body, context.RequestAborted);
            await context.Response.Body.WriteAsync(tail, context.RequestAborted);
            return;
        }

        // Prometheus asks for gzip: the scan's part is compressed once per scan, ~10x fewer bytes per scrape. With
        // the length known the bytes go out in one response, not as chunked encoding.
        if (context.Request.Headers.AcceptEncoding.Any(v => v is not null && v.Contains("gzip", StringComparison.OrdinalIgnoreCase)))
        {
            byte[] body = GzipBody.Build(rendered, tail);
            context.Response.Headers.ContentEncoding = "gzip";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return;
        }

        context.Response.ContentLength = rendered.Text.Length + tail.Length;
        await context.Response.Body.WriteAsync(rendered.Text, context.RequestAborted);
        await context.Response.Body.WriteAsync(tail, context.RequestAborted);
    }
}
