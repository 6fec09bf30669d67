using System.Buffers.Text;

namespace MapsExporter.Core.Proc;

/// <summary><c>vm.max_map_count</c> from <c>/proc/sys/vm/max_map_count</c>: the limit <c>mappings</c> runs into.</summary>
public static class MaxMapCountReader
{
    /// <summary>The limit, or null when the file cannot be read or does not hold a number.</summary>
    public static long? TryRead(ProcFs procFs, ProcFileReader reader)
    {
        try
        {
            ReadOnlySpan<byte> text = reader.ReadAll(procFs.HostPath("sys/vm/max_map_count")).Trim("\n "u8);
            return Utf8Parser.TryParse(text, out long value, out int consumed) && consumed == text.Length && value >= 0 ? value : null;
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            return null;
        }
    }
}
