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

    /// <summary>The section's flags, <c>--web.*</c> as node_exporter spells them.</summary>
    public static class Flags
    {
        private static readonly WebOptions Defaults = new();

        public static Flag ListenAddress { get; } = Flag.For("--web.listen-address", Section, nameof(WebOptions.ListenAddress), Defaults.ListenAddress,
            "address to serve /metrics on: [host]:port");

        public static Flag ConfigFile { get; } = Flag.For("--web.config.file", Section, nameof(WebOptions.ConfigFile), Defaults.ConfigFile,
            "exporter-toolkit web config file: TLS and basic auth (see README, Securing the endpoint)");

        public static IReadOnlyList<Flag> All { get; } = [ListenAddress, ConfigFile];
    }
}

internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options) =>
        Configuration.ListenAddress.TryParse(options.ListenAddress, out _, out string problem)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{WebOptions.Flags.ListenAddress.Describe()}: '{options.ListenAddress}': {problem}");
}
