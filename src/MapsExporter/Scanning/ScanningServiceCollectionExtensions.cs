using MapsExporter.Configuration;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MapsExporter.Scanning;

internal static class ScanningServiceCollectionExtensions
{
    /// <summary>Sections <c>Scan</c> and <c>Selection</c>, the scanner, the metrics publisher and the scanning service.</summary>
    public static IServiceCollection AddScanning(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ScanOptions, ScanOptionsValidator>(configuration, ScanOptions.Section);
        services.AddValidatedOptions<SelectionOptions, SelectionOptionsValidator>(configuration, SelectionOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            ScanOptions scan = sp.GetRequiredService<IOptions<ScanOptions>>().Value;
            SelectionOptions selection = sp.GetRequiredService<IOptions<SelectionOptions>>().Value;
            return new ProcessScanner(new ProcFs(scan.ProcFs), selection.ToSelector(), scan.Smaps, sp.GetRequiredService<TimeProvider>(), scan.CostOptions);
        });
        services.AddHostedService<ScanService>();
        return services;
    }
}
