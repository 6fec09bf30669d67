using MapsExporter.Configuration;
using MapsExporter.Logging;
using MapsExporter.MemoryConsole;
using MapsExporter.Metrics;
using MapsExporter.Scanning;
using MapsExporter.Web;
using Prometheus;

namespace MapsExporter.Daemon;

/// <summary>Builds the daemon: configuration (appsettings.json &lt; MAPSEXPORTER__ environment &lt; flags), logging, scanning, web.</summary>
internal static class DaemonHost
{
    public const string EnvironmentPrefix = "MAPSEXPORTER__";

    /// <summary>Every feature's flags, grouped by prefix as node_exporter groups them: --web.*, --path.*, --scan.*, --selection.*, --log.*.</summary>
    public static CommandLineFlags Flags { get; } = new([.. WebOptions.Flags.All, .. ScanOptions.Flags.All, .. SelectionOptions.Flags.All, .. LogOptions.Flags.All]);

    public static WebApplication Build(string[] args)
    {
        // The content root is the binary's folder: systemd starts it elsewhere, and appsettings.json must still be found.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // Only our sources: no unprefixed environment (a stray SCAN__INTERVAL would bind), no ASPNETCORE_URLS.
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .AddCommandLine(args, Flags.SwitchMappings);
        builder.Services.AddSystemd();
        builder.Services.AddDaemonLogging(builder.Configuration);
        builder.Services.AddWebConfig(); // before AddWeb: TLS is a default of the listeners AddWeb creates
        builder.Services.AddWeb(builder.Configuration);
        builder.Services.AddMetricsPublishing();
        builder.Services.AddScanning(builder.Configuration);
        builder.Services.AddMemoryConsole();
        WebApplication app = builder.Build();
        app.UseDaemonRequestLogging(); // first: 401s and errors get their line too
        app.UseHttpMetrics(app.Services.GetRequiredService<HttpMetrics>().Configure); // and are counted
        app.UseWebConfig();
        app.MapDaemonEndpoints();
        app.MapMemoryConsole();
        return app;
    }
}
