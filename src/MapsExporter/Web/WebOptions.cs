using MapsExporter.Configuration;
using Microsoft.Extensions.Options;

namespace MapsExporter.Web;

/// <summary>Section <c>Web</c>: where /metrics is served.</summary>
internal sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary><c>[host]:port</c>; an empty host listens on every address.</summary>
    public string ListenAddress { get; set; } = $":{CommandLineFlags.DefaultPort}";

    /// <summary>An exporter-toolkit web config file (TLS, basic auth); empty serves plain HTTP to anyone.</summary>
    public string ConfigFile { get; set; } = "";
}

internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options) =>
        Configuration.ListenAddress.TryParse(options.ListenAddress, out _, out string problem)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{CommandLineFlags.Describe("Web:ListenAddress")}: '{options.ListenAddress}': {problem}");
}
