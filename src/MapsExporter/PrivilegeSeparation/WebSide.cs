using MapsExporter.Daemon;
using MapsExporter.Logging;
using MapsExporter.Metrics;
using MapsExporter.Web;
using Microsoft.Extensions.Options;
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
        bool journal = args.Length > 2 && args[2] == "--journal";
        string[] flags = args[(journal ? 3 : 2)..];
        return await DaemonCommand.GuardedAsync(stderr, journal, async () =>
        {
            await using WebApplication app = Build(flags, fd, journal);
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

    private static WebApplication Build(string[] flags, int fd, bool journal)
    {
        WebApplicationBuilder builder = DaemonHost.CreateBuilder(flags);
        builder.Services.AddDaemonLogging(builder.Configuration, journal);
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true); // the scanner says them
        builder.Services.AddWebConfig();
        builder.Services.AddWeb(builder.Configuration);
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
