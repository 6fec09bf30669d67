using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Finds glibc's non-main arenas. Each arena heap is a 64 MiB reservation aligned to 64 MiB, whose used
/// prefix is read/write and the rest PROT_NONE; an arena grows by adding heaps, and adjacent heaps with
/// equal flags merge into one VMA. From smaps, the heap's read/write part keeps MAP_NORESERVE (<c>nr</c>)
/// because glibc commits with mprotect, while HotSpot commits with mmap (<c>ac</c>, no <c>nr</c>): that
/// tells a 64 MiB-aligned metaspace node from an arena. From a maps dump the shape alone decides, and a
/// metaspace node that happens to be 64 MiB aligned with one committed prefix can pass for an arena heap.
/// Which heaps belong to one arena needs the heap_info headers (<see cref="HeapInfoArenaReader"/>, when the
/// process's memory can be read); by layout, a heap that directly follows a full heap continues its arena.
/// </summary>
public static class ArenaDetector
{
    public const ulong HeapSize = 64UL * 1024 * 1024;

    /// <summary>
    /// glibc maps heaps with mmap(NULL, ...), which the kernel places in the mmap area, far above 32 GiB on
    /// 64-bit; below lies HotSpot's compressed-oops heap, often a whole multiple of 64 MiB at a 64 MiB boundary.
    /// </summary>
    public const ulong LowestHeapAddress = 32UL * 1024 * 1024 * 1024;

    public static void Detect(MappingTable table, Classification result, IProcessMemory? memory = null, MallocReadLimits? mallocLimits = null)
    {
        if (memory is not null && HeapInfoArenaReader.Detect(table, result, memory, mallocLimits))
        {
            result.Decided(RegionCategory.LibcArena, DecisionMethod.HeapInfo);
            return;
        }

        if (memory is null)
        {
            result.Fallbacks.Add(DecisionMethod.HeapInfo);
        }

        ReadOnlySpan<Mapping> items = table.Items;
        bool haveFlags = table.HasSmapsFields && items.Length > 0 && items[0].HasFlag(VmFlags.Known);
        ulong previousRunEnd = ulong.MaxValue;
        bool previousHeapFull = false;

        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !IsHeapStart(items[i], haveFlags))
            {
                continue;
            }

            ref readonly Mapping rw = ref items[i];
            ulong end = rw.End;
            int last = i;
            if (i + 1 < items.Length && IsHeapTail(items[i + 1], rw.End, haveFlags) && !result.IsAssigned(i + 1))
            {
                end = items[i + 1].End;
                last = i + 1;
            }

            // The PROT_NONE rest completes the last heap and nothing more: a larger reservation is someone else's.
            if (end - rw.Start != RoundUp(rw.Size))
            {
                continue;
            }

            int heaps = (int)((end - rw.Start) / HeapSize);
            bool continuesArena = rw.Start == previousRunEnd && previousHeapFull;
            result.LibcArenaHeaps += heaps;
            // Heaps merged into one read/write VMA are full, so the later ones continue the first one's arena.
            result.LibcArenas += continuesArena ? 0 : 1;
            for (int j = i; j <= last; j++)
            {
                result.Assign(j, RegionCategory.LibcArena);
            }

            previousRunEnd = end;
            previousHeapFull = last == i;
            i = last;
        }
    }

    private static ulong RoundUp(ulong size) => (size + HeapSize - 1) / HeapSize * HeapSize;

    private static bool IsHeapStart(in Mapping m, bool haveFlags)
    {
        if (m.Start % HeapSize != 0 || m.Start < LowestHeapAddress || !m.IsPrivateReadWrite || (m.Permissions & Permissions.Execute) != 0)
        {
            return false;
        }

        if (m.Kind == MappingKind.NamedAnonymous)
        {
            return true;
        }

        if (m.Kind != MappingKind.Anonymous)
        {
            return false;
        }

        return !haveFlags || (m.HasFlag(VmFlags.NoReserve) && !m.HasFlag(VmFlags.Accountable) && !m.HasFlag(VmFlags.NoHugePage));
    }

    private static bool IsHeapTail(in Mapping m, ulong expectedStart, bool haveFlags) =>
        m.Start == expectedStart && m.IsNoAccess && (m.Permissions & Permissions.Shared) == 0
        && m.Kind is MappingKind.Anonymous or MappingKind.NamedAnonymous
        && (!haveFlags || m.HasFlag(VmFlags.NoReserve));
}
