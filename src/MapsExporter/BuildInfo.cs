using System.Reflection;
using System.Runtime.InteropServices;

namespace MapsExporter;

/// <summary>
/// What this binary is: the version (the repository's VERSION file, through the build), the commit it was built
/// from (stamped by the build; "unknown" outside a git checkout) and the .NET runtime compiled into it.
/// </summary>
internal static class BuildInfo
{
    private static readonly Assembly Self = typeof(BuildInfo).Assembly;

    public static string Version { get; } = Self.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static string Revision { get; } = Self.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "Revision")?.Value ?? "unknown";

    /// <summary>The runtime's version, e.g. 10.0.12 (Native AOT carries the one it was compiled with).</summary>
    public static string DotnetVersion { get; } = Environment.Version.ToString();

    /// <summary>linux/amd64 or linux/arm64, as container platforms are written.</summary>
    public static string Platform { get; } = "linux/" + RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>What --version prints, in the form Prometheus' exporters use.</summary>
    public static string Text =>
        $"""
        mapsexporter, version {Version} (revision: {Revision})
          dotnet version: {DotnetVersion}
          platform: {Platform}
        """;
}
