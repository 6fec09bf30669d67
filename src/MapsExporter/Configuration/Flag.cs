using System.Globalization;

namespace MapsExporter.Configuration;

/// <summary>
/// One flag of the daemon, node_exporter style (<c>--scan.interval=15s</c> or <c>--scan.interval 15s</c>): the spelling of
/// one configuration key, which appsettings.json and <c>MAPSEXPORTER__SECTION__KEY</c> also set. Each feature declares
/// its flags beside its options class, defaults read from a new instance of that class, so each default is written once.
/// </summary>
/// <param name="Name">The flag as written: <c>--scan.interval</c>.</param>
/// <param name="Key">The configuration key it sets: <c>Scan:Interval</c>.</param>
/// <param name="Default">The options class's default, as a flag's value; empty for none.</param>
/// <param name="Help">Its line in <c>--help</c>.</param>
/// <param name="OldName">An earlier spelling, still taken for a while with a warning naming <paramref name="Name"/>.</param>
internal sealed record Flag(string Name, string Key, string Default, string Help, string? OldName = null)
{
    /// <summary>The flag for property <paramref name="property"/> of section <paramref name="section"/>, its default shown as a flag's value.</summary>
    public static Flag For(string name, string section, string property, object? defaultValue, string help, string? oldName = null) =>
        new(name, $"{section}:{property}", FormatValue(defaultValue), help, oldName);

    /// <summary><c>--scan.interval (Scan:Interval)</c>: how a message about a bad value names the setting.</summary>
    public string Describe() => $"{Name} ({Key})";

    /// <summary>As the flag would be written: <c>true</c>, not <c>True</c>; numbers invariant; empty for none.</summary>
    private static string FormatValue(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
