using MapsExporter.Scanning;

namespace MapsExporter.Metrics;

internal static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// The metrics publisher (what <c>/metrics</c> serves) and the last scan (what <c>/</c> and <c>/healthz</c> show).
    /// Not <c>AddMetrics</c>: ASP.NET brings Microsoft.Extensions.Diagnostics' <c>AddMetrics</c> (IMeterFactory) for the same type.
    /// </summary>
    public static IServiceCollection AddMetricsPublishing(this IServiceCollection services)
    {
        services.AddSingleton<MetricsPublisher>();
        services.AddSingleton<HttpMetrics>();
        services.AddSingleton<LatestScan>();
        return services;
    }
}
