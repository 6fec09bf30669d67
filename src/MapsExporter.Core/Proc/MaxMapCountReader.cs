using System.Globalization;

namespace MapsExporter.Core.Proc;

/// <summary><c>vm.max_map_count</c> from <c>/proc/sys/vm/max_map_count</c>: the limit <c>mappings</c> runs into.</summary>
public static class MaxMapCountReader
{
    /// <summary>The limit, or null when the file cannot be read or does not hold a number.</summary>
    public static long? TryRead(ProcFs procFs)
    {
        try
        {
            string text = File.ReadAllText(procFs.HostPath("sys/vm/max_map_count"));
            return long.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
