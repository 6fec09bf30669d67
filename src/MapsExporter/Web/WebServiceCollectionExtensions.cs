using MapsExporter.Configuration;
using MapsExporter.Scanning;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace MapsExporter.Web;

internal static class WebServiceCollectionExtensions
{
    /// <summary>
    /// Section <c>Web</c>, and Kestrel listening on its address only; or, given <paramref name="listenHandles"/> (the
    /// web side of a split daemon), on those sockets the scanner bound for that address.
    /// </summary>
    public static IServiceCollection AddWeb(this IServiceCollection services, IConfiguration configuration, IReadOnlyList<int>? listenHandles = null)
    {
        // Bound on its static type: under Native AOT the configuration binder's source generator writes this binding.
        services.AddOptions<WebOptions>().Bind(configuration.GetSection(WebOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebOptions>, WebOptionsValidator>();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<WebOptions>>((kestrel, web) =>
        {
            kestrel.AddServerHeader = false;
            if (listenHandles is { Count: > 0 })
            {
                foreach (int handle in listenHandles)
                {
                    kestrel.ListenHandle((ulong)handle);
                }
            }
            else if (ListenAddress.TryParse(web.Value.ListenAddress, out ListenAddress address, out _))
            {
                address.ApplyTo(kestrel);
            }
        });
        return services;
    }

    /// <summary><c>/</c> (landing page), <c>/metrics</c> (the last scan) and <c>/healthz</c> (did the last scan succeed).</summary>
    public static WebApplication MapDaemonEndpoints(this WebApplication app)
    {
        app.MapGet("/", (LatestScan latest, MemoryConsole.HistoryStore history, string? sort) => LandingPage.IsSort(sort)
            ? Results.Content(LandingPage.Render(latest.Snapshot, history.ResidentTotals(), sort), "text/html; charset=utf-8")
            : Results.Text($"sort must be size or growth, not '{sort}'\n", statusCode: StatusCodes.Status400BadRequest));
        app.MapGet("/metrics", MetricsEndpoint.WriteAsync);
        app.MapGet("/healthz", (LatestScan latest) => latest.Snapshot switch
        {
            null => Results.Text("no scan yet\n", statusCode: StatusCodes.Status503ServiceUnavailable),
            { Success: true } => Results.Text("ok\n"),
            { FailureMessage: var message } => Results.Text($"last scan failed: {message}\n", statusCode: StatusCodes.Status503ServiceUnavailable),
        });
        return app;
    }
}
