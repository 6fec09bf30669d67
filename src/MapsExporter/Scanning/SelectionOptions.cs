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

    /// <summary>The section's flags, <c>--selection.*</c>.</summary>
    public static class Flags
    {
        private static readonly SelectionOptions Defaults = new();

        public static Flag IncludeApp { get; } = Flag.For("--selection.include-app", Section, nameof(SelectionOptions.IncludeApp), Defaults.IncludeApp,
            "regex (anchored) on the app name: only these JVMs", oldName: "--include-app");

        public static Flag ExcludeApp { get; } = Flag.For("--selection.exclude-app", Section, nameof(SelectionOptions.ExcludeApp), Defaults.ExcludeApp,
            "regex (anchored) on the app name: not these processes", oldName: "--exclude-app");

        public static Flag IncludeNative { get; } = Flag.For("--selection.include-native", Section, nameof(SelectionOptions.IncludeNative), Defaults.IncludeNative,
            "regex (anchored) on comm: also these non-Java processes", oldName: "--include-native");

        public static IReadOnlyList<Flag> All { get; } = [IncludeApp, ExcludeApp, IncludeNative];
    }
}

internal sealed class SelectionOptionsValidator : IValidateOptions<SelectionOptions>
{
    public ValidateOptionsResult Validate(string? name, SelectionOptions options)
    {
        var failures = new List<string>();
        Check(failures, SelectionOptions.Flags.IncludeApp, options.IncludeApp);
        Check(failures, SelectionOptions.Flags.ExcludeApp, options.ExcludeApp);
        Check(failures, SelectionOptions.Flags.IncludeNative, options.IncludeNative);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, Flag flag, string pattern)
    {
        if (ProcessSelector.Check(pattern) is { } problem)
        {
            failures.Add($"{flag.Describe()}: '{pattern}' is not a valid regex: {problem}");
        }
    }
}
