using MapsExporter.Configuration;
using MapsExporter.Logging;
using MapsExporter.MemoryConsole;
using MapsExporter.Metrics;
using MapsExporter.PrivilegeSeparation;
using MapsExporter.Scanning;
using MapsExporter.Web;
using Microsoft.AspNetCore.Hosting.Server;
using Prometheus;

namespace MapsExporter.Daemon;

/// <summary>Builds the daemon: configuration (appsettings.json &lt; MAPSEXPORTER__ environment &lt; flags), logging, scanning, web.</summary>
internal static class DaemonHost
{
    public const string EnvironmentPrefix = "MAPSEXPORTER__";

    /// <summary>Every feature's flags, grouped by prefix as node_exporter groups them: --web.*, --path.*, --scan.*, --selection.*, --log.*.</summary>
    public static CommandLineFlags Flags { get; } = new([.. WebOptions.Flags.All, .. ScanOptions.Flags.All, .. SelectionOptions.Flags.All, .. LogOptions.Flags.All]);

    /// <summary>The daemon in one process, or (<paramref name="scanner"/>) the scanner of a split one: no listener, no auth, requests come from the web side's socket.</summary>
    public static WebApplication Build(string[] args, bool scanner = false)
    {
        WebApplicationBuilder builder = CreateBuilder(args);
        builder.Services.AddSystemd();
        builder.Services.AddDaemonLogging(builder.Configuration);
        builder.Services.AddWebConfig(); // before AddWeb: TLS is a default of the listeners AddWeb creates
        builder.Services.AddWeb(builder.Configuration);
        builder.Services.AddMetricsPublishing();
        builder.Services.AddScanning(builder.Configuration);
        builder.Services.AddMemoryConsole();
        if (scanner)
        {
            builder.Services.AddSingleton<ScannerServer>();
            builder.Services.AddSingleton<IServer>(sp => sp.GetRequiredService<ScannerServer>());
            builder.Services.AddHostedService<ScannerStartGate>(); // last: after the scan service's first scan
        }

        WebApplication app = builder.Build();
        if (!scanner)
        {
            app.UseDaemonRequestLogging(); // first: 401s and errors get their line too
            app.UseHttpMetrics(app.Services.GetRequiredService<HttpMetrics>().Configure); // and are counted
            app.UseWebConfig();
        }

        app.MapDaemonEndpoints();
        app.MapMemoryConsole();
        return app;
    }

    /// <summary>The builder with the daemon's configuration sources, for both sides of a split daemon.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        // The content root is the binary's folder: systemd starts it elsewhere, and appsettings.json must still be found.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // Only our sources: no unprefixed environment (a stray SCAN__INTERVAL would bind), no ASPNETCORE_URLS.
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .AddCommandLine(args, Flags.SwitchMappings);
        return builder;
    }
}
