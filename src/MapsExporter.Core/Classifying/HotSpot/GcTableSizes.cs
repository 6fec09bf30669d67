using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// The sizes of a collector's own reservations beside the heap, computed as HotSpot computes them from the heap
/// (MaxHeapSize and the old generation's maximum from hsperfdata, ZGC's address space from its mapped views).
/// Each table is a reservation of its own, page aligned; where JDK 17 and 25 size one differently both sizes are
/// listed (a table is one or the other). Measured against NMT's GC reservations on 17.0.15 and 25.0.3:
/// <list type="bullet">
/// <item>G1: mark bitmaps, one bit per 8-byte word (heap / 64; two on JDK 17, one on 25); block offset table,
/// card table and card counts, one byte per 512-byte card (heap / 512; card counts before JDK 21).</item>
/// <item>Parallel: ParMarkBitMap (begin and end bits, heap / 32, on 17; begin bits only, heap / 64, on 25);
/// ParallelCompactData's region data (40 bytes per 512 KiB region) and, on 17, block data (2 bytes per 1 KiB
/// block, heap / 512); the old generation's ObjectStartArray (old / 512); the card table (heap / 512, JDK 17 one
/// guard card more).</item>
/// <item>Serial: the old generation's block offset table (old / 512) and the card table, as Parallel's.</item>
/// <item>Shenandoah: the mark bitmap and the auxiliary bitmap (two bits per word each, heap / 32); the region
/// storage (ShenandoahHeapRegion per region, 128 bytes on 17, 256 on 25); the collection set map, one byte per
/// region from address 0 to the heap's end (biased), reserved at a low address.</item>
/// <item>ZGC, JDK 17 (three views): the page table and the forwarding table, 8 bytes per 2 MiB granule of the
/// address offset space (heap x 16 rounded up to a power of two, 4 to 16 TiB); the mark stack space
/// (ZMarkStackSpaceLimit, 8 GiB unless set).</item>
/// <item>ZGC, JDK 25 (generational): per 2 MiB granule of the reserved address space (its views): two tables of
/// 8 bytes and one of 4, and the page table over the address offset space: that space rounded up to a power of
/// two, at least 8 GiB (ZAddressHeapBaseMinShift).</item>
/// </list>
/// </summary>
internal static class GcTableSizes
{
    private static readonly ulong Page = SystemPage.Size;
    private const ulong ZGranule = 2 * 1024 * 1024;
    private const ulong ZMarkStackSpaceLimit = 8UL << 30;
    private const ulong ZMinAddressOffsetMax = 1UL << 33;

    /// <summary>Every table of the collector, each with its possible sizes; null where the collector's tables are not known.</summary>
    public static ulong[][]? For(HsPerfData perfData, ulong heapReservation, ulong heapEnd)
    {
        if (perfData.HeapMaxBytes is not { } max || max <= 0)
        {
            return null;
        }

        ulong heap = (ulong)max;
        ulong old = perfData.Counter("sun.gc.generation.1.maxCapacity") is { } o && o > 0 ? (ulong)o : 0;
        ulong[] cardTable = [Align(heap / 512), Align((heap / 512) + 1)];
        int major = MajorVersion(perfData.JvmVersion);
        return perfData.GcName switch
        {
            "G1" => [[heap / 64], [heap / 64], [heap / 512], [heap / 512], [heap / 512]],
            "Parallel" when old > 0 =>
            [
                [Align(heap / 32), Align(heap / 64)],
                [Align(CeilDiv(heap, 512 * 1024) * 40)],
                [Align(heap / 512)],
                [Align(old / 512)],
                cardTable,
            ],
            "Serial" when old > 0 => [[Align(old / 512)], cardTable],
            "Shenandoah" => Shenandoah(heap, heapEnd),
            "ZGC" when major is >= 11 and <= 20 =>
            [
                [ZGranuleMap(ZAddressOffsetMax(heap), 8)], [ZGranuleMap(ZAddressOffsetMax(heap), 8)], [ZMarkStackSpaceLimit],
            ],
            "ZGC" when major >= 25 && heapReservation > 0 =>
            [
                [ZGranuleMap(heapReservation, 8)], [ZGranuleMap(heapReservation, 8)], [ZGranuleMap(heapReservation, 4)],
                [ZGranuleMap(Math.Max(RoundUpPowerOfTwo(heapReservation), ZMinAddressOffsetMax), 8)],
            ],
            _ => null,
        };
    }

    /// <summary>Whether the collector's every mmap reservation is sized here (all but G1's: its mark stack and card set tables are not).</summary>
    public static bool SizesEveryTable(HsPerfData perfData) => perfData.GcName is "Parallel" or "Serial" or "Shenandoah" or "ZGC";

    /// <summary>Every sum of at most one size per table (at least one table).</summary>
    public static HashSet<ulong> Sums(ulong[][] tables)
    {
        var sums = new HashSet<ulong> { 0 };
        foreach (ulong[] sizes in tables)
        {
            foreach (ulong sum in sums.ToArray())
            {
                foreach (ulong size in sizes)
                {
                    sums.Add(sum + size);
                }
            }
        }

        sums.Remove(0);
        return sums;
    }

    /// <summary>ShenandoahHeapRegion::setup_sizes: heap / 2048 regions, within 256 KiB to 32 MiB, rounded down to a power of two.</summary>
    private static ulong[][] Shenandoah(ulong heap, ulong heapEnd)
    {
        ulong region = Math.Clamp(heap / 2048, 256UL * 1024, 32UL * 1024 * 1024);
        int shift = 63 - System.Numerics.BitOperations.LeadingZeroCount(region);
        ulong regions = CeilDiv(heap, 1UL << shift);
        ulong[][] tables = [[Align(heap / 32)], [Align(heap / 32)], [Align(regions * 128), Align(regions * 256)]];
        return heapEnd == 0 ? tables : [.. tables, [Align(heapEnd >> shift)]];
    }

    /// <summary>JDK 17's ZPlatformAddressOffsetBits: heap x 16 rounded up to a power of two, 2^42 to 2^44.</summary>
    private static ulong ZAddressOffsetMax(ulong heap)
    {
        int bits = System.Numerics.BitOperations.Log2(RoundUpPowerOfTwo(heap * 16));
        return 1UL << Math.Clamp(bits, 42, 44);
    }

    private static ulong ZGranuleMap(ulong space, ulong entryBytes) => Align(space / ZGranule * entryBytes);

    private static ulong RoundUpPowerOfTwo(ulong value) => System.Numerics.BitOperations.RoundUpToPowerOf2(value);

    private static ulong CeilDiv(ulong value, ulong unit) => (value + unit - 1) / unit;

    private static ulong Align(ulong bytes) => CeilDiv(bytes, Page) * Page;

    /// <summary>The feature release of java.vm.version ("17.0.15+6-Debian-1deb12u1" -> 17); 0 if not known.</summary>
    private static int MajorVersion(string? version)
    {
        int value = 0;
        foreach (char c in version ?? "")
        {
            if (c is < '0' or > '9')
            {
                break;
            }

            value = (value * 10) + (c - '0');
        }

        return value;
    }
}
