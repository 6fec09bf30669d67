using MapsExporter.Configuration;
using MapsExporter.Core.Scanning;
using Microsoft.Extensions.Options;

namespace MapsExporter.Scanning;

/// <summary>Section <c>Selection</c>: which processes to report. Every JVM when all are empty.</summary>
internal sealed class SelectionOptions
{
    public const string Section = "Selection";

    /// <summary>Anchored regex on the app name (main class, jar name or comm): only matching JVMs.</summary>
    public string IncludeApp { get; set; } = "";

    /// <summary>Anchored regex on the app name: processes never reported.</summary>
    public string ExcludeApp { get; set; } = "";

    /// <summary>Anchored regex on the comm of non-Java processes to report as well (e.g. native daemons growing arenas).</summary>
    public string IncludeNative { get; set; } = "";

    public ProcessSelector ToSelector() => new(IncludeApp, ExcludeApp, IncludeNative);
}

internal sealed class SelectionOptionsValidator : IValidateOptions<SelectionOptions>
{
    public ValidateOptionsResult Validate(string? name, SelectionOptions options)
    {
        var failures = new List<string>();
        Check(failures, "Selection:IncludeApp", options.IncludeApp);
        Check(failures, "Selection:ExcludeApp", options.ExcludeApp);
        Check(failures, "Selection:IncludeNative", options.IncludeNative);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string key, string pattern)
    {
        if (ProcessSelector.Check(pattern) is { } problem)
        {
            failures.Add($"{CommandLineFlags.Describe(key)}: '{pattern}' is not a valid regex: {problem}");
        }
    }
}
