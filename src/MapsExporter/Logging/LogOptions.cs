using MapsExporter.Configuration;
using Microsoft.Extensions.Options;
using Serilog.Events;

namespace MapsExporter.Logging;

/// <summary>Section <c>Log</c>: level and format of the daemon's log (on stderr; journald takes it under systemd).</summary>
internal sealed class LogOptions
{
    public const string Section = "Log";

    /// <summary>debug, info, warn or error (Serilog's names work too).</summary>
    public string Level { get; set; } = "info";

    /// <summary>logfmt (text, with journald priority prefixes under systemd) or json (compact JSON, one event a line).</summary>
    public string Format { get; set; } = "logfmt";

    public bool Json => string.Equals(Format, "json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The section's flags, <c>--log.*</c>.</summary>
    public static class Flags
    {
        private static readonly LogOptions Defaults = new();

        public static Flag Level { get; } = Flag.For("--log.level", Section, nameof(LogOptions.Level), Defaults.Level, "debug, info, warn or error");

        public static Flag Format { get; } = Flag.For("--log.format", Section, nameof(LogOptions.Format), Defaults.Format, "logfmt or json (compact JSON, one event a line)");

        public static IReadOnlyList<Flag> All { get; } = [Level, Format];
    }

    public static bool TryParseLevel(string? text, out LogEventLevel level)
    {
        switch (text?.ToUpperInvariant())
        {
            case "DEBUG":
                level = LogEventLevel.Debug;
                return true;
            case "INFO" or "INFORMATION":
                level = LogEventLevel.Information;
                return true;
            case "WARN" or "WARNING":
                level = LogEventLevel.Warning;
                return true;
            case "ERROR":
                level = LogEventLevel.Error;
                return true;
            case "VERBOSE" or "TRACE":
                level = LogEventLevel.Verbose;
                return true;
            default:
                level = LogEventLevel.Information;
                return false;
        }
    }
}

internal sealed class LogOptionsValidator : IValidateOptions<LogOptions>
{
    public ValidateOptionsResult Validate(string? name, LogOptions options)
    {
        var failures = new List<string>();
        if (!LogOptions.TryParseLevel(options.Level, out _))
        {
            failures.Add($"{LogOptions.Flags.Level.Describe()}: '{options.Level}' is not one of debug, info, warn, error");
        }

        if (options.Format is not ("logfmt" or "text" or "json"))
        {
            failures.Add($"{LogOptions.Flags.Format.Describe()}: '{options.Format}' is not one of logfmt, json");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
