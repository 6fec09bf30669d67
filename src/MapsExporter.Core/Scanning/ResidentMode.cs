namespace MapsExporter.Core.Scanning;

/// <summary>Where resident figures come from between full smaps reads (<c>--scan.resident</c>).</summary>
public enum ResidentMode
{
    /// <summary>Per process, the cheaper of the two as measured: smaps (and its interval) or pagemap every scan.</summary>
    Auto,

    /// <summary>smaps only: resident figures as fresh as the smaps interval allows.</summary>
    Smaps,

    /// <summary>pagemap every scan where its assumptions hold (a JVM whose heap is known exactly), smaps elsewhere.</summary>
    Pagemap,
}

public static class ResidentModes
{
    public static string Id(this ResidentMode mode) => mode switch
    {
        ResidentMode.Smaps => "smaps",
        ResidentMode.Pagemap => "pagemap",
        _ => "auto",
    };

    /// <summary>The mode named <paramref name="id"/> (auto, smaps, pagemap), or null.</summary>
    public static ResidentMode? Parse(string? id) => id?.ToLowerInvariant() switch
    {
        "auto" => ResidentMode.Auto,
        "smaps" => ResidentMode.Smaps,
        "pagemap" => ResidentMode.Pagemap,
        _ => null,
    };
}
