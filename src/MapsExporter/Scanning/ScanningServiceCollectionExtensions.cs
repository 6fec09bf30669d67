using MapsExporter.Core.Cgroups;
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
        // Each bound on its static type: under Native AOT the configuration binder's source generator writes these bindings.
        services.AddOptions<ScanOptions>().Bind(configuration.GetSection(ScanOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ScanOptions>, ScanOptionsValidator>();
        services.AddOptions<SelectionOptions>().Bind(configuration.GetSection(SelectionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SelectionOptions>, SelectionOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            ScanOptions scan = sp.GetRequiredService<IOptions<ScanOptions>>().Value;
            SelectionOptions selection = sp.GetRequiredService<IOptions<SelectionOptions>>().Value;
            return new ProcessScanner(new ProcFs(scan.ProcFs), selection.ToSelector(), scan.Smaps, sp.GetRequiredService<TimeProvider>(), scan.CostOptions, CgroupFs.ForThisProcess(scan.CgroupFs));
        });
        services.AddHostedService<ScanService>();
        return services;
    }
}
