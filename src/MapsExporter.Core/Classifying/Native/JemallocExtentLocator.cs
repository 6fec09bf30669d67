using System.Buffers;
using System.Buffers.Binary;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Finds the anonymous memory jemalloc 5 holds, from jemalloc's own bookkeeping read out of the process. Every extent
/// (active, dirty, muzzy or retained) is registered in the global page map, a two-level radix tree keyed by page
/// (<c>arena_emap_global.rtree</c>, src/emap.c and include/jemalloc/internal/rtree.h of 5.3): its root, 2^18
/// pointers, is a static in libjemalloc's .bss, and each leaf maps the 2^18 pages of one GiB to packed words whose low
/// 48 bits, 128-aligned, are the extent's edata pointer. An extent registers its first and last page (a slab every
/// page), so the pages from the first to the last word naming one edata are that extent. jemalloc's metadata is not
/// in the map: it lives in base blocks, 2 MiB-aligned, each starting with <c>{size, next, edata}</c> whose edata
/// describes the block's unused tail (address + size = block end). The root is found by structure, not by version: a
/// slot of libjemalloc's writable data at the place the root would have for an anonymous mapping's GiB, pointing to a
/// leaf whose words for that mapping name edata in anonymous memory. Only x86-64/aarch64 user addresses of 48 bits
/// and 4 KiB pages are understood (jemalloc's build for 57 bits has three levels; then nothing is found).
/// </summary>
public static class JemallocExtentLocator
{
    private const int LgPage = 12;
    private const ulong Page = 1UL << LgPage;
    private const int LevelBits = 18;
    private const int RootSlots = 1 << LevelBits;
    private const int LgLeafSpan = LgPage + LevelBits;
    private const ulong EdataMask = ((1UL << 48) - 1) & ~127UL;
    private const ulong BaseBlockAlignment = 2UL * 1024 * 1024;
    private const ulong MaxDataBytes = 8UL * 1024 * 1024;
    private const int LeafChunk = 4096;

    /// <summary>Assigns <see cref="RegionCategory.NativeAllocator"/> to what jemalloc's page map and base blocks cover; false when jemalloc's page map was not found.</summary>
    public static bool Locate(MappingTable table, Classification result, IProcessMemory memory)
    {
        if (FindLibraryData(table) is not { } data || (ulong)(data.End - data.Start) > MaxDataBytes)
        {
            return false;
        }

        byte[] bytes = ArrayPool<byte>.Shared.Rent((int)(data.End - data.Start));
        try
        {
            Span<byte> region = bytes.AsSpan(0, (int)(data.End - data.Start));
            if (!memory.TryRead(data.Start, region) || FindRoot(table, result, memory, region, data.Start) is not { } root)
            {
                return false;
            }

            List<(ulong Start, ulong End)> covered = Extents(table, result, memory, region[(int)(root - data.Start)..][..(RootSlots * 8)]);
            covered.AddRange(BaseBlocks(table, result, memory, covered));
            Assign(table, result, memory, Merge(covered));
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>libjemalloc's writable file mapping and the .bss right after it (where the root is).</summary>
    private static (ulong Start, ulong End)? FindLibraryData(MappingTable table)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            ref readonly Mapping m = ref items[i];
            if (m.Kind == MappingKind.File && m.IsPrivateReadWrite
                && FileMappingClassifier.BaseName(FileMappingClassifier.StripDeleted(table.PathOf(m))).StartsWith("libjemalloc", StringComparison.Ordinal))
            {
                ulong end = m.End;
                if (i + 1 < items.Length && items[i + 1].Start == end && AnonymousRun.IsAnonymousPrivate(items[i + 1]) && items[i + 1].IsPrivateReadWrite)
                {
                    end = items[i + 1].End;
                }

                return (m.Start, end);
            }
        }

        return null;
    }

    private static bool IsCandidate(in Mapping m, Classification result, int index) =>
        !result.IsAssigned(index) && AnonymousRun.IsAnonymousPrivate(m) && m.IsPrivateReadWrite && (m.Permissions & Permissions.Execute) == 0;

    private static bool InAnonymousMemory(ReadOnlySpan<Mapping> items, ulong address)
    {
        int i = Classification.IndexOf(items, address);
        return i >= 0 && AnonymousRun.IsAnonymousPrivate(items[i]) && items[i].IsPrivateReadWrite;
    }

    private static ulong? FindRoot(MappingTable table, Classification result, IProcessMemory memory, ReadOnlySpan<byte> region, ulong regionStart)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        // The largest candidates first: jemalloc's extents are most of a process's leftover anonymous memory.
        var candidates = new List<(ulong Size, int Index)>();
        for (int i = 0; i < items.Length; i++)
        {
            if (IsCandidate(items[i], result, i))
            {
                candidates.Add((items[i].Size, i));
            }
        }

        candidates.Sort((a, b) => b.CompareTo(a));
        if (region.Length < RootSlots * 8)
        {
            return null;
        }

        ulong regionEnd = regionStart + (ulong)region.Length;
        foreach ((_, int c) in candidates.Take(8))
        {
            ulong slot = items[c].Start >> LgLeafSpan;
            for (int at = 0; at + 8 <= region.Length; at += 8)
            {
                ulong leaf = BinaryPrimitives.ReadUInt64LittleEndian(region[at..]);
                ulong root = regionStart + (ulong)at - (slot * 8);
                if (leaf == 0 || leaf % 8 != 0 || root < regionStart || root > regionEnd - (RootSlots * 8UL)
                    || !InAnonymousMemory(items, leaf) || !LeafNamesEdata(items, memory, leaf, items[c]))
                {
                    continue;
                }

                return root;
            }
        }

        return null;
    }

    /// <summary>The leaf's words for the mapping's first pages name at least one edata, and every one lies in anonymous memory.</summary>
    private static bool LeafNamesEdata(ReadOnlySpan<Mapping> items, IProcessMemory memory, ulong leaf, in Mapping m)
    {
        ulong end = Math.Min(m.End, Math.Min(m.Start + (512 * Page), ((m.Start >> LgLeafSpan) + 1) << LgLeafSpan));
        Span<byte> words = stackalloc byte[512 * 8];
        words = words[..(int)((end - m.Start) / Page * 8)];
        if (!memory.TryRead(leaf + (LeafIndex(m.Start) * 8), words))
        {
            return false;
        }

        bool any = false;
        for (int i = 0; i < words.Length; i += 8)
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(words[i..]);
            ulong edata = word & EdataMask;
            if (edata == 0)
            {
                continue;
            }

            // The size class index is 8 bits wide in the top 16; an edata lives in jemalloc's base blocks.
            if (word >> 56 != 0 || !InAnonymousMemory(items, edata))
            {
                return false;
            }

            any = true;
        }

        return any;
    }

    private static ulong LeafIndex(ulong address) => (address >> LgPage) & (RootSlots - 1);

    /// <summary>Each extent from the first to the last page whose word names its edata, over every candidate mapping.</summary>
    private static List<(ulong Start, ulong End)> Extents(MappingTable table, Classification result, IProcessMemory memory, ReadOnlySpan<byte> root)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        var extents = new Dictionary<ulong, (ulong First, ulong Last)>();
        byte[] words = ArrayPool<byte>.Shared.Rent(LeafChunk * 8);
        try
        {
            for (int i = 0; i < items.Length; i++)
            {
                if (!IsCandidate(items[i], result, i))
                {
                    continue;
                }

                for (ulong page = items[i].Start; page < items[i].End;)
                {
                    ulong spanEnd = ((page >> LgLeafSpan) + 1) << LgLeafSpan;
                    ulong end = Math.Min(items[i].End, Math.Min(spanEnd, page + (LeafChunk * Page)));
                    ulong leaf = BinaryPrimitives.ReadUInt64LittleEndian(root[(int)((page >> LgLeafSpan) * 8)..]);
                    Span<byte> chunk = words.AsSpan(0, (int)((end - page) / Page * 8));
                    if (leaf != 0 && memory.TryRead(leaf + (LeafIndex(page) * 8), chunk))
                    {
                        for (int w = 0; w < chunk.Length; w += 8)
                        {
                            ulong edata = BinaryPrimitives.ReadUInt64LittleEndian(chunk[w..]) & EdataMask;
                            if (edata != 0)
                            {
                                ulong at = page + ((ulong)w / 8 * Page);
                                extents[edata] = extents.TryGetValue(edata, out var seen) ? (seen.First, at) : (at, at);
                            }
                        }
                    }

                    page = end;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(words);
        }

        return [.. extents.Values.Select(e => (e.First, e.Last + Page))];
    }

    /// <summary>jemalloc's metadata blocks: at a 2 MiB boundary outside every extent, <c>{size, next, edata{bits, addr, bsize}}</c> with addr + bsize = block end.</summary>
    private static List<(ulong Start, ulong End)> BaseBlocks(MappingTable table, Classification result, IProcessMemory memory, List<(ulong Start, ulong End)> extents)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        List<(ulong Start, ulong End)> sorted = Merge(extents);
        var blocks = new List<(ulong, ulong)>();
        Span<byte> header = stackalloc byte[40];
        for (int i = 0; i < items.Length; i++)
        {
            if (!IsCandidate(items[i], result, i))
            {
                continue;
            }

            for (ulong b = (items[i].Start + BaseBlockAlignment - 1) / BaseBlockAlignment * BaseBlockAlignment; b < items[i].End; b += BaseBlockAlignment)
            {
                if (Covers(sorted, b) || !memory.TryRead(b, header))
                {
                    continue;
                }

                ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header);
                ulong next = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
                ulong unusedStart = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
                ulong unusedSize = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
                if (size != 0 && size % BaseBlockAlignment == 0 && next % BaseBlockAlignment == 0
                    && unusedStart > b && unusedStart <= b + size && unusedStart + unusedSize == b + size)
                {
                    blocks.Add((b, b + size));
                    b += size - BaseBlockAlignment;
                }
            }
        }

        return blocks;
    }

    private static bool Covers(List<(ulong Start, ulong End)> sorted, ulong address)
    {
        // The first range that starts above the address is found (no range ends at ulong.MaxValue); the one before may hold it.
        int above = ~sorted.BinarySearch((address, ulong.MaxValue));
        return above > 0 && address < sorted[above - 1].End;
    }

    private static List<(ulong Start, ulong End)> Merge(List<(ulong Start, ulong End)> ranges)
    {
        ranges.Sort();
        var merged = new List<(ulong Start, ulong End)>(ranges.Count);
        foreach (var r in ranges)
        {
            if (merged.Count > 0 && r.Start <= merged[^1].End)
            {
                merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, r.End));
            }
            else
            {
                merged.Add(r);
            }
        }

        return merged;
    }

    /// <summary>Candidate mappings inside the ranges become native_allocator; one partly inside is split at the range's edges.</summary>
    private static void Assign(MappingTable table, Classification result, IProcessMemory memory, List<(ulong Start, ulong End)> ranges)
    {
        int r = 0;
        for (int i = 0; i < table.Count; i++)
        {
            Mapping m = table[i];
            if (!IsCandidate(m, result, i))
            {
                continue;
            }

            while (r < ranges.Count && ranges[r].End <= m.Start)
            {
                r++;
            }

            if (r == ranges.Count || ranges[r].Start >= m.End)
            {
                continue;
            }

            if (ranges[r].Start > m.Start)
            {
                // The part below stays unknown; the loop goes on with the part from the range's start.
                result.SplitAt(table, i, ranges[r].Start, memory);
                continue;
            }

            if (ranges[r].End < m.End)
            {
                result.SplitAt(table, i, ranges[r].End, memory);
            }

            result.Assign(i, RegionCategory.NativeAllocator);
        }
    }
}
