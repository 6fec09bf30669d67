using System.Buffers.Binary;

namespace MapsExporter.Tests.Support;

/// <summary>
/// /proc/PID/pagemap: one 64-bit entry per virtual page (bit 63 present, bits 0-54 the page frame number, shown to
/// root). Distinct frames over several address ranges count each physical page once however often it is mapped.
/// </summary>
public static class PageMap
{
    private const int PageSize = 4096;

    public static long DistinctResidentBytes(int pid, IEnumerable<(ulong Start, ulong End)> ranges)
    {
        var frames = new HashSet<ulong>();
        using var file = new FileStream($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        byte[] buffer = new byte[64 * 1024];
        foreach ((ulong start, ulong end) in ranges)
        {
            for (ulong page = start / PageSize; page < end / PageSize;)
            {
                int count = (int)Math.Min((ulong)(buffer.Length / 8), (end / PageSize) - page);
                file.Position = (long)(page * 8);
                file.ReadExactly(buffer, 0, count * 8);
                for (int i = 0; i < count; i++)
                {
                    ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(i * 8));
                    if ((entry >> 63) != 0)
                    {
                        ulong frame = entry & ((1UL << 55) - 1);
                        if (frame == 0)
                        {
                            throw new InvalidOperationException("pagemap hides frame numbers (not root)");
                        }

                        frames.Add(frame);
                    }
                }

                page += (ulong)count;
            }
        }

        return frames.Count * (long)PageSize;
    }
}
