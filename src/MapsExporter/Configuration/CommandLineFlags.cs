using System.Text;

namespace MapsExporter.Configuration;

/// <summary>
/// The daemon's flags, node_exporter style (<c>--web.listen-address=:10135</c> or <c>--web.listen-address :10135</c>),
/// each the spelling of one configuration key, which appsettings.json and <c>MAPSEXPORTER__SECTION__KEY</c> also set.
/// </summary>
internal static class CommandLineFlags
{
    public const int DefaultPort = 10135;

    public static IReadOnlyList<Flag> All { get; } =
    [
        new("--web.listen-address", "Web:ListenAddress", $":{DefaultPort}", "address to serve /metrics on: [host]:port"),
        new("--web.config.file", "Web:ConfigFile", "", "exporter-toolkit web config file: TLS and basic auth (see README, Securing the endpoint)"),
        new("--scan-interval", "Scan:Interval", "15s", "time between scans, as Prometheus writes durations (500ms, 15s, 1m, 1h30m)"),
        new("--path.procfs", "Scan:ProcFs", "/proc", "procfs mount point (the host's /proc when in a container)"),
        new("--scan.smaps", "Scan:Smaps", "true", "read smaps (resident sizes); false reads maps only, which never stalls the target"),
        new("--scan.smaps-interval", "Scan:SmapsInterval", Scanning.ScanOptions.DefaultSmapsInterval, "least time between smaps reads of a process (page-table walks); maps in the scans between keeps the layout fresh, resident figures are kept from the last smaps read; 0s: every scan"),
        new("--scan.rollup-above-bytes", "Scan:RollupAboveBytes", "0", "read smaps_rollup (totals) + maps (layout) instead of smaps for processes whose Rss is above this many bytes; 0: never"),
        new("--include-app", "Selection:IncludeApp", "", "regex (anchored) on the app name: only these JVMs"),
        new("--exclude-app", "Selection:ExcludeApp", "", "regex (anchored) on the app name: not these processes"),
        new("--include-native", "Selection:IncludeNative", "", "regex (anchored) on comm: also these non-Java processes"),
        new("--log.level", "Log:Level", "info", "debug, info, warn or error"),
        new("--log.format", "Log:Format", "logfmt", "logfmt or json (compact JSON, one event a line)"),
    ];

    /// <summary>For <c>AddCommandLine(args, SwitchMappings)</c>.</summary>
    public static IDictionary<string, string> SwitchMappings { get; } = All.ToDictionary(f => f.Name, f => f.Key, StringComparer.Ordinal);

    /// <summary>The flag that sets <paramref name="key"/> (e.g. <c>Scan:Interval</c>), for error messages.</summary>
    public static string Describe(string key)
    {
        Flag? flag = All.FirstOrDefault(f => string.Equals(f.Key, key, StringComparison.OrdinalIgnoreCase));
        return flag is null ? key : $"{flag.Name} ({flag.Key})";
    }

    /// <summary>Null when every argument is a known flag with a value, else what is wrong with the first that is not.</summary>
    public static string? FindUnknown(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? arg : arg[..eq];
            if (!SwitchMappings.ContainsKey(name))
            {
                return arg.StartsWith('-') ? $"unknown flag {name}" : $"unexpected argument '{arg}'";
            }

            if (eq < 0 && ++i >= args.Count)
            {
                return $"{name} needs a value";
            }
        }

        return null;
    }

    public static string Usage()
    {
        var text = new StringBuilder();
        foreach (Flag flag in All)
        {
            string def = flag.Default.Length == 0 ? "" : $" (default {flag.Default})";
            text.Append(CultureInfoInvariant($"  {flag.Name + "=VALUE",-28} {flag.Help}{def}\n"));
        }

        return text.ToString();
    }

    private static string CultureInfoInvariant(FormattableString s) => FormattableString.Invariant(s);

    internal sealed record Flag(string Name, string Key, string Default, string Help);
}
