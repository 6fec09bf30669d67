using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Sinks.SystemConsole.Themes;

namespace MapsExporter.Logging;

internal static class DaemonLogging
{
    private const string LogfmtTemplate = "{Priority}ts={Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} level={level} source={SourceContext} msg=\"{Message:lj}\"{NewLine}{Exception}";

    /// <summary>
    /// Section <c>Log</c>, and Serilog as the only logger. Sinks are set in code: under Native AOT, sinks named in
    /// configuration do not load. Journal priorities when <c>underSystemd</c>; by default when systemd started this
    /// process (the web side is told by the scanner).
    /// </summary>
    public static IServiceCollection AddDaemonLogging(this IServiceCollection services, IConfiguration configuration, bool? underSystemd = null)
    {
        // Bound on its static type: under Native AOT the configuration binder's source generator writes this binding.
        services.AddOptions<LogOptions>().Bind(configuration.GetSection(LogOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LogOptions>, LogOptionsValidator>();
        // The static Log.Logger stays the bootstrap logger: several hosts can run in one process (tests).
        services.AddSerilog(
            (provider, logger) => Configure(logger, provider.GetRequiredService<IOptions<LogOptions>>().Value, underSystemd ?? SystemdHelpers.IsSystemdService()),
            preserveStaticLogger: true);
        return services;
    }

    /// <summary>Console (stderr) logging at the configured level; the bootstrap logger uses it with the defaults.</summary>
    public static LoggerConfiguration Configure(LoggerConfiguration logger, LogOptions options, bool underSystemd)
    {
        LogEventLevel level = LogOptions.TryParseLevel(options.Level, out LogEventLevel parsed) ? parsed : LogEventLevel.Information;
        logger.MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .MinimumLevel.Override("System", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        if (options.Json)
        {
            return logger.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose);
        }

        return logger.Enrich.With(new LevelEnricher(underSystemd))
            .WriteTo.Console(outputTemplate: LogfmtTemplate, formatProvider: CultureInfo.InvariantCulture, standardErrorFromLevel: LogEventLevel.Verbose, theme: ConsoleTheme.None);
    }
}
