using MapsExporter.Configuration;
using Microsoft.Extensions.Options;

namespace MapsExporter.Web;

/// <summary>Section <c>Web</c>: where /metrics is served.</summary>
internal sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary><c>[host]:port</c>; an empty host listens on every address. 10135 is outside Prometheus' default port allocations.</summary>
    public string ListenAddress { get; set; } = ":10135";

    /// <summary>An exporter-toolkit web config file (TLS, basic auth); empty serves plain HTTP to anyone.</summary>
    public string ConfigFile { get; set; } = "";

    /// <summary>How far back the console's pages and <c>/api/v1</c> keep each process's figures, as Prometheus writes durations.</summary>
    public string History { get; set; } = "1h";

    /// <summary>
    /// When started as root or with capabilities: scan in a process with no network and serve HTTP from a child with no
    /// capability (docs/privilege-separation.md). False: one process.
    /// </summary>
    public bool PrivilegeSeparation { get; set; } = true;

    public TimeSpan HistoryValue => PrometheusDuration.TryParse(History, out TimeSpan d) && d > TimeSpan.Zero ? d : TimeSpan.FromHours(1);

    /// <summary>The section's flags, <c>--web.*</c> as node_exporter spells them.</summary>
    public static class Flags
    {
        private static readonly WebOptions Defaults = new();

        public static Flag ListenAddress { get; } = Flag.For("--web.listen-address", Section, nameof(WebOptions.ListenAddress), Defaults.ListenAddress,
            "address to serve /metrics on: [host]:port");

        public static Flag ConfigFile { get; } = Flag.For("--web.config.file", Section, nameof(WebOptions.ConfigFile), Defaults.ConfigFile,
            "exporter-toolkit web config file: TLS and basic auth (see README, Securing the endpoint)");

        public static Flag History { get; } = Flag.For("--web.history", Section, nameof(WebOptions.History), Defaults.History,
            "how far back /process/PID and /api/v1 keep each process's figures (one row of numbers per scan), as Prometheus writes durations");

        public static Flag PrivilegeSeparation { get; } = Flag.For("--web.privsep", Section, nameof(WebOptions.PrivilegeSeparation), Defaults.PrivilegeSeparation,
            "when privileged: scan in a process with no network, serve HTTP from one with no capability (false: one process)");

        public static IReadOnlyList<Flag> All { get; } = [ListenAddress, ConfigFile, History, PrivilegeSeparation];
    }
}

internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        var failures = new List<string>();
        if (!Configuration.ListenAddress.TryParse(options.ListenAddress, out _, out string problem))
        {
            failures.Add($"{WebOptions.Flags.ListenAddress.Describe()}: '{options.ListenAddress}': {problem}");
        }

        if (!PrometheusDuration.TryParse(options.History, out TimeSpan history) || history <= TimeSpan.Zero)
        {
            failures.Add($"{WebOptions.Flags.History.Describe()}: '{options.History}' is not a positive duration like 30m, 1h or 6h");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
