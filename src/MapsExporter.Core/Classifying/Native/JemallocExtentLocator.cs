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
    private const int MaxMappingsChecked = 16;

    /// <summary>
    /// Assigns <see cref="RegionCategory.NativeAllocator"/> to what jemalloc's page map and base blocks cover; false when
    /// jemalloc's page map was not found. <paramref name="cache"/> keeps where the root was (libjemalloc's .bss does not
    /// move): while it still checks out, only the root's slots needed are read, not the whole 2 MiB.
    /// </summary>
    public static bool Locate(MappingTable table, Classification result, IProcessMemory memory, JemallocRootCache? cache = null)
    {
        if (FindLibraryData(table) is not { } data || data.End - data.Start > MaxDataBytes || data.End - data.Start < RootSlots * 8UL)
        {
            return false;
        }

        var slots = new Dictionary<ulong, ulong>();
        if (cache?.Address is not { } root || root < data.Start || root + (RootSlots * 8UL) > data.End
            || CheckRoot(table, result, memory, slot => ReadSlot(memory, root, slot, slots)) != true)
        {
            slots.Clear();
            if (FindRoot(table, result, memory, data.Start, data.End) is not { } found)
            {
                return false;
            }

            root = found;
        }

        if (cache is not null)
        {
            cache.Address = root;
        }

        List<(ulong Start, ulong End)> covered = Extents(table, result, memory, slot => ReadSlot(memory, root, slot, slots));
        covered.AddRange(BaseBlocks(table, result, memory, covered));
        Assign(table, result, memory, Merge(covered));
        return true;
    }

    /// <summary>The root's slot for one GiB (the leaf's address, or 0), read once per inspection.</summary>
    private static ulong ReadSlot(IProcessMemory memory, ulong root, ulong slot, Dictionary<ulong, ulong> slots)
    {
        if (!slots.TryGetValue(slot, out ulong leaf))
        {
            Span<byte> word = stackalloc byte[8];
            leaf = slot < RootSlots && memory.TryRead(root + (slot * 8), word) ? BinaryPrimitives.ReadUInt64LittleEndian(word) : 0;
            slots[slot] = leaf;
        }

        return leaf;
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

    /// <summary>
    /// The root among libjemalloc's writable data: each word pointing into anonymous memory may be the slot of a GiB that
    /// holds leftover anonymous mappings; the root it implies is taken when that GiB's leaf names edata for them.
    /// </summary>
    private static ulong? FindRoot(MappingTable table, Classification result, IProcessMemory memory, ulong start, ulong end)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        byte[] bytes = ArrayPool<byte>.Shared.Rent((int)(end - start));
        try
        {
            Span<byte> region = bytes.AsSpan(0, (int)(end - start));
            if (!memory.TryRead(start, region))
            {
                return null;
            }

            var gibs = new SortedSet<ulong>();
            for (int i = 0; i < items.Length; i++)
            {
                if (IsCandidate(items[i], result, i))
                {
                    gibs.Add(items[i].Start >> LgLeafSpan);
                }
            }

            var tried = new HashSet<ulong>();
            for (int at = 0; at + 8 <= region.Length; at += 8)
            {
                ulong leaf = BinaryPrimitives.ReadUInt64LittleEndian(region[at..]);
                if (leaf == 0 || leaf % 8 != 0 || !InAnonymousMemory(items, leaf))
                {
                    continue;
                }

                foreach (ulong gib in gibs)
                {
                    ulong root = start + (ulong)at - (gib * 8);
                    if (gib * 8 <= (ulong)at && root + (RootSlots * 8UL) <= end && tried.Add(root)
                        && CheckRoot(table, result, memory, slot => slot == gib ? leaf : ReadWord(bytes, end - start, root + (slot * 8) - start)) == true)
                    {
                        return root;
                    }
                }
            }

            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The word at <paramref name="offset"/> of the data read, or 0 past its <paramref name="length"/>.</summary>
    private static ulong ReadWord(byte[] data, ulong length, ulong offset) =>
        offset + 8 <= length ? BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan((int)offset)) : 0;

    /// <summary>
    /// Whether <paramref name="slotOf"/> is jemalloc's root: true when a leftover anonymous mapping's leaf names edata, all
    /// in anonymous memory; false when a leaf has a word that cannot be jemalloc's; null when no mapping had a word.
    /// The largest mappings are tried first, at most a few.
    /// </summary>
    private static bool? CheckRoot(MappingTable table, Classification result, IProcessMemory memory, Func<ulong, ulong> slotOf)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        var candidates = new List<(ulong Size, int Index)>();
        for (int i = 0; i < items.Length; i++)
        {
            if (IsCandidate(items[i], result, i))
            {
                candidates.Add((items[i].Size, i));
            }
        }

        candidates.Sort((a, b) => b.CompareTo(a));
        int tried = 0;
        foreach ((_, int c) in candidates)
        {
            ulong leaf = slotOf(items[c].Start >> LgLeafSpan);
            if (leaf == 0 || !InAnonymousMemory(items, leaf))
            {
                continue;
            }

            if (LeafNamesEdata(items, memory, leaf, items[c]) is { } verdict)
            {
                return verdict;
            }

            if (++tried == MaxMappingsChecked)
            {
                break;
            }
        }

        return null;
    }

    /// <summary>
    /// The leaf's words for the mapping's first pages: null when none names an edata, false when one names something
    /// that cannot be one. The first edata named is read: its extent (<c>e_addr</c> at +8, <c>e_size_esn</c> at +16,
    /// the size in its page bits) must hold the page whose word named it, which a leaf of another GiB (a root guessed
    /// off by whole slots) does not.
    /// </summary>
    private static bool? LeafNamesEdata(ReadOnlySpan<Mapping> items, IProcessMemory memory, ulong leaf, in Mapping m)
    {
        ulong end = Math.Min(m.End, Math.Min(m.Start + (512 * Page), ((m.Start >> LgLeafSpan) + 1) << LgLeafSpan));
        Span<byte> words = stackalloc byte[512 * 8];
        words = words[..(int)((end - m.Start) / Page * 8)];
        if (!memory.TryRead(leaf + (LeafIndex(m.Start) * 8), words))
        {
            return null;
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
            if (word >> 56 != 0 || !InAnonymousMemory(items, edata) || (!any && !EdataHolds(memory, edata, m.Start + ((ulong)i / 8 * Page))))
            {
                return false;
            }

            any = true;
        }

        return any ? true : null;
    }

    private static bool EdataHolds(IProcessMemory memory, ulong edata, ulong page)
    {
        Span<byte> fields = stackalloc byte[24];
        if (!memory.TryRead(edata, fields))
        {
            return false;
        }

        // A large extent's e_addr is offset inside its first page (opt.cache_oblivious): its page is the extent's start.
        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(fields[8..]) & ~(Page - 1);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(fields[16..]) & ~(Page - 1);
        return address <= page && page - address < size;
    }

    private static ulong LeafIndex(ulong address) => (address >> LgPage) & (RootSlots - 1);

    /// <summary>Each extent from the first to the last page whose word names its edata, over every candidate mapping.</summary>
    private static List<(ulong Start, ulong End)> Extents(MappingTable table, Classification result, IProcessMemory memory, Func<ulong, ulong> slotOf)
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
                    ulong leaf = slotOf(page >> LgLeafSpan);
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
