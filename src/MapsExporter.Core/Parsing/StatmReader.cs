using System.Buffers.Text;

namespace MapsExporter.Core.Parsing;

/// <summary>
/// The resident size from <c>/proc/PID/statm</c> (<c>size resident shared text lib data dt</c>, in pages): the
/// kernel's own counters, no page-table walk and no mmap lock, so it is cheap enough to decide how to read a
/// process before the expensive read.
/// </summary>
public static class StatmReader
{
    /// <summary>Resident bytes, or -1 when the text is not statm.</summary>
    public static long ParseResidentBytes(ReadOnlySpan<byte> statm)
    {
        int space = statm.IndexOf((byte)' ');
        if (space <= 0)
        {
            return -1;
        }

        ReadOnlySpan<byte> rest = statm[(space + 1)..];
        return Utf8Parser.TryParse(rest, out long pages, out _) && pages >= 0 ? pages * Environment.SystemPageSize : -1;
    }
}
