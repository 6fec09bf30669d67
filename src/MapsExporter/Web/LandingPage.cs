namespace MapsExporter.Web;

/// <summary>The page at <c>/</c>: what this is and where the metrics are. No external assets.</summary>
internal static class LandingPage
{
    public const string Html = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>MapsExporter</title></head>
        <body>
        <h1>MapsExporter</h1>
        <p>Where each JVM's memory goes beyond -Xmx: Java heap, code cache, metaspace, thread stacks, glibc arenas,
        libraries and mapped files, from /proc/PID/smaps. Values come from the last scan.</p>
        <ul>
        <li><a href="metrics">Metrics</a></li>
        <li><a href="healthz">Health</a> (did the last scan succeed)</li>
        </ul>
        </body>
        </html>

        """;
}
