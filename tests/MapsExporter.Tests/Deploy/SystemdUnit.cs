using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>systemd/mapsexporter.service read as key=value lines of its [Service] section (enough for the directives the tests check).</summary>
public static class SystemdUnit
{
    public static string Path => System.IO.Path.Combine(RepoPaths.Root, "systemd", "mapsexporter.service");

    public static string Text => File.ReadAllText(Path);

    /// <summary>Every value of <paramref name="key"/> in the unit, in order.</summary>
    public static List<string> Values(string key) => Text.Split('\n')
        .Select(l => l.Trim())
        .Where(l => l.StartsWith(key + "=", StringComparison.Ordinal))
        .Select(l => l[(key.Length + 1)..])
        .ToList();

    public static string One(string key)
    {
        List<string> values = Values(key);
        Assert.True(values.Count == 1, $"{key}= appears {values.Count} times in {Path}");
        return values[0];
    }

    /// <summary>The capabilities the unit grants, as setpriv names them: sys_ptrace, dac_read_search.</summary>
    public static string[] Capabilities()
    {
        string[] ambient = One("AmbientCapabilities").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] bounding = One("CapabilityBoundingSet").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ambient.Order(), bounding.Order());
        return ambient.Select(c => c["CAP_".Length..].ToLowerInvariant()).ToArray();
    }
}
