using System.Buffers.Text;

namespace MapsExporter.Core.Parsing;

/// <summary>
/// <c>VmSwap</c> from <c>/proc/PID/status</c>: the process's swapped-out anonymous pages (the kernel's MM_SWAPENTS
/// counter, no page-table walk). shmem pages swapped out (a ZGC memfd heap) are not in it: they leave no swap entry
/// in the page table.
/// </summary>
public static class StatusSwapReader
{
    private static ReadOnlySpan<byte> Key => "\nVmSwap:"u8;

    /// <summary>Swapped-out bytes, or -1 when the text has no VmSwap line (a kernel thread).</summary>
    public static long ParseSwapBytes(ReadOnlySpan<byte> status)
    {
        int at = status.IndexOf(Key);
        if (at < 0)
        {
            return -1;
        }

        ReadOnlySpan<byte> rest = status[(at + Key.Length)..].TrimStart(" \t"u8);
        return Utf8Parser.TryParse(rest, out long kib, out _) && kib >= 0 ? kib * 1024 : -1;
    }
}
