using System.Text.RegularExpressions;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// Which processes a scan reports: every JVM by default, narrowed by <c>include-app</c> / <c>exclude-app</c>
/// (on the app name: main class, jar name or comm), plus non-Java processes whose comm matches
/// <c>include-native</c>. Patterns are anchored at both ends, as Prometheus anchors relabelling regexes.
/// </summary>
public sealed class ProcessSelector
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);
    private readonly Regex? _includeApp;
    private readonly Regex? _excludeApp;
    private readonly Regex? _includeNative;

    public ProcessSelector(string? includeApp = null, string? excludeApp = null, string? includeNative = null)
    {
        _includeApp = Compile(includeApp);
        _excludeApp = Compile(excludeApp);
        _includeNative = Compile(includeNative);
    }

    public static ProcessSelector All { get; } = new();

    /// <summary>True when non-Java processes can be selected at all (else their comm need not be read).</summary>
    public bool SelectsNative => _includeNative is not null;

    public bool SelectJvm(string app) => (_includeApp is null || _includeApp.IsMatch(app)) && !IsExcluded(app);

    public bool SelectNative(string comm) => _includeNative is not null && _includeNative.IsMatch(comm) && !IsExcluded(comm);

    /// <summary>Null when <paramref name="pattern"/> is a valid regex (or empty), else why not.</summary>
    public static string? Check(string? pattern)
    {
        try
        {
            _ = Compile(pattern);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private bool IsExcluded(string name) => _excludeApp is not null && _excludeApp.IsMatch(name);

    private static Regex? Compile(string? pattern) => string.IsNullOrEmpty(pattern)
        ? null
        : new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant, MatchTimeout);
}
