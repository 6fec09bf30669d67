using Serilog.Core;
using Serilog.Events;

namespace MapsExporter.Logging;

/// <summary>
/// Adds <c>level</c> (debug, info, warn, error, fatal, as node_exporter writes it) and <c>Priority</c>: the
/// journald prefix (<c>&lt;7&gt;</c> debug … <c>&lt;2&gt;</c> fatal) under systemd, so the journal files each line
/// at its level; empty elsewhere. Serilog replaces the console logger that wrote these prefixes.
/// </summary>
internal sealed class LevelEnricher(bool underSystemd) : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        (string name, int priority) = logEvent.Level switch
        {
            LogEventLevel.Verbose or LogEventLevel.Debug => ("debug", 7),
            LogEventLevel.Information => ("info", 6),
            LogEventLevel.Warning => ("warn", 4),
            LogEventLevel.Error => ("error", 3),
            _ => ("fatal", 2),
        };
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("level", name));
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("Priority", underSystemd ? $"<{priority}>" : ""));
    }
}
