using MapsExporter.Daemon;
using MapsExporter.Logging;
using MapsExporter.Metrics;
using MapsExporter.Web;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using Prometheus;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// <c>mapsexporter web-side --ipc-fd N [flags]</c> (hidden; the scanner starts it): the process that listens. It
/// holds no capability and, when the daemon was started as root, runs as nobody; it parses HTTP, TLS and the web
/// config, checks basic auth, logs requests and counts them (prometheus-net.AspNetCore), and asks the scanner for
/// every answer. Its routes are the scanner's route templates, so the HTTP metrics' <c>endpoint</c> label is as in
/// one process.
/// </summary>
internal static class WebSide
{
    public const string Command = "web-side";

    /// <summary>The routes the scanner answers, besides /metrics; each forwarded as a page request.</summary>
    private static readonly string[] PageRoutes =
        ["/", "/healthz", "/api/v1/processes", "/api/v1/processes/{pid}", "/api/v1/processes/{pid}/history", "/process/{pid}"];

    private const string Unavailable = "the scanner is not answering\n";

    public static async Task<int> RunAsync(string[] args, TextWriter stderr)
    {
        if (args.Length < 2 || args[0] != "--ipc-fd" || !int.TryParse(args[1], out int fd) || fd < 3)
        {
            await stderr.WriteLineAsync("mapsexporter web-side: started by the daemon itself (--ipc-fd N first)");
            return ExitCodes.Usage;
        }

        // Killed with the scanner that started it, whatever the reason it ended.
        LinuxCalls.Prctl(LinuxCalls.PrSetPdeathsig, 15, 0, 0, 0);
        // As the scanner does, before the host's threads: the deflate state of every scrape stays out of the arenas.
        MallocTuning.PinMmapThreshold();
        var listeners = new List<int>();
        int files = -1;
        int at = 2;
        for (; at + 1 < args.Length && args[at] is "--listen-fd" or "--web-files-fd"; at += 2)
        {
            if (!int.TryParse(args[at + 1], out int inherited) || inherited < 3)
            {
                await stderr.WriteLineAsync($"mapsexporter web-side: {args[at]} takes a descriptor number");
                return ExitCodes.Usage;
            }

            if (args[at] == "--listen-fd")
            {
                listeners.Add(inherited);
            }
            else
            {
                files = inherited;
            }
        }

        bool journal = args.Length > at && args[at] == "--journal";
        string[] flags = args[(journal ? at + 1 : at)..];
        return await DaemonCommand.GuardedAsync(stderr, journal, async () =>
        {
            await using WebApplication app = Build(flags, fd, listeners, files < 0 ? null : ReadWebFiles(files), journal);
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            try
            {
                // Listening only once the scanner has published its first scan, as the one-process daemon does.
                ScannerClient scanner = app.Services.GetRequiredService<ScannerClient>();
                if (!await scanner.HandshakeAsync(IpcKind.Ready, app.Lifetime.ApplicationStopping))
                {
                    return ExitCodes.Failure;
                }

                await app.StartAsync();
                DaemonCommand.LogListening(app);
                if (!await scanner.HandshakeAsync(IpcKind.Listening, app.Lifetime.ApplicationStopping))
                {
                    return ExitCodes.Failure;
                }

                await app.WaitForShutdownAsync();
                return scanner.Broken ? ExitCodes.Failure : ExitCodes.Success;
            }
            catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // SIGTERM (the scanner stopping it) before it was up: a stop, not a failure.
                return ExitCodes.Success;
            }
        });
    }

    private static WebApplication Build(string[] flags, int fd, IReadOnlyList<int> listeners, WebConfigFiles? files, bool journal)
    {
        WebApplicationBuilder builder = DaemonHost.CreateBuilder(flags);
        builder.Services.AddDaemonLogging(builder.Configuration, journal);
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true); // the scanner says them
        if (files is not null)
        {
            builder.Services.AddSingleton(files); // the web config as the scanner read it: this side opens none of its files
        }

        builder.Services.AddWebConfig();
        builder.Services.AddWeb(builder.Configuration, listeners);
        builder.Services.AddSingleton<HttpMetrics>();
        builder.Services.AddSingleton(sp => ScannerClient.FromDescriptor(fd, sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<ScannerClient>>()));
        WebApplication app = builder.Build();
        app.UseDaemonRequestLogging();
        app.UseHttpMetrics(app.Services.GetRequiredService<HttpMetrics>().Configure);
        app.UseWebConfig();
        app.MapGet("/metrics", MetricsAsync);
        foreach (string route in PageRoutes)
        {
            app.MapGet(route, PageAsync);
        }

        return app;
    }

    /// <summary>The scanner's bundle of the web config's files, from the start of its memfd; a bad one is an <see cref="IOException"/> (exit 1).</summary>
    private static WebConfigFiles ReadWebFiles(int fd)
    {
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        long length = RandomAccess.GetLength(handle);
        if (length > WebConfigFiles.MaxBundle)
        {
            throw new IOException($"the scanner's web config bundle is {length} bytes, more than {WebConfigFiles.MaxBundle}");
        }

        byte[] bundle = new byte[length];
        for (int read = 0, n; read < bundle.Length; read += n)
        {
            n = RandomAccess.Read(handle, bundle.AsSpan(read), read);
            if (n == 0)
            {
                throw new IOException("the scanner's web config bundle ended early");
            }
        }

        try
        {
            return WebConfigFiles.Decode(bundle);
        }
        catch (InvalidDataException e)
        {
            throw new IOException($"the scanner's web config bundle: {e.Message}", e);
        }
    }

    private static async Task MetricsAsync(HttpContext context, ScannerClient scanner, HttpMetrics http)
    {
        if (await scanner.AskAsync(new IpcRequest(IpcKind.Metrics, ""), context.RequestAborted) is not { } answer)
        {
            await WriteUnavailableAsync(context);
            return;
        }

        RenderedScrape? rendered;
        byte[] plain;
        try
        {
            rendered = IpcScrape.Decode(answer.Body, out plain);
        }
        catch (IpcFormatException)
        {
            await WriteUnavailableAsync(context);
            return;
        }

        await MetricsEndpoint.WriteScrapeAsync(context, rendered, (body, ct) => body.WriteAsync(plain, ct).AsTask(), http);
    }

    private static async Task PageAsync(HttpContext context, ScannerClient scanner)
    {
        string target = context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent();
        if (target.Length > IpcFrames.MaxTarget)
        {
            context.Response.StatusCode = StatusCodes.Status414UriTooLong;
            return;
        }

        if (await scanner.AskAsync(new IpcRequest(IpcKind.Page, target), context.RequestAborted) is not { } answer)
        {
            await WriteUnavailableAsync(context);
            return;
        }

        context.Response.StatusCode = answer.Status;
        if (answer.ContentType.Length > 0)
        {
            context.Response.ContentType = answer.ContentType;
        }

        context.Response.ContentLength = answer.Body.Length;
        await context.Response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    private static Task WriteUnavailableAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(Unavailable, context.RequestAborted);
    }
}
