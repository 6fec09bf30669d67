using System.Buffers.Binary;
using System.Text;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Tests.Support;

/// <summary>
/// A process's memory laid out as a given glibc lays out its malloc bookkeeping, byte for byte: libc's .data with
/// main_arena (at libc+0xc60 of its rw-p mapping, where Debian's 2.36 has it) and mp_ (+0x340), a <c>[heap]</c>, one thread
/// arena in one heap and one in two (the later heap's heap_info pointing back at the first), each with small, large,
/// unsorted and fast chunks between in-use ones and a top chunk, linked as glibc links them (fastbins safe-linked
/// where the version does). The figures each arena must give are computed as glibc's malloc_stats, malloc_info and
/// malloc_trim would; <see cref="Memory"/> serves the bytes, and can be mutated.
/// </summary>
public sealed class GlibcMallocImage
{
    public const ulong LibcData = 0x7f0000200000, MainArena = LibcData + 0xc60, Mp = LibcData + 0x340;
    public const ulong HeapStart = 0x555555560000, HeapBytes = 0x200000;
    public const ulong HeapA = 0x7f0004000000, HeapB1 = 0x7f0008000000, HeapB2 = 0x7f000c000000;
    public const ulong ThreadHeapBytes = 0x300000;
    private const ulong PageSize = 4096;

    private readonly MallocStateLayout _layout;
    private readonly MallocParametersLayout _mp;
    private readonly ulong _headerSize;
    private readonly bool _safeLinking;

    public GlibcMallocImage(string version)
    {
        (_layout, _mp, _headerSize, _safeLinking) = version switch
        {
            "2.26" => (MallocStateLayout.Glibc226, MallocParametersLayout.Glibc226To234, 0x20UL, false),
            "2.31" => (MallocStateLayout.Glibc227To242, MallocParametersLayout.Glibc226To234, 0x20UL, false),
            "2.34" => (MallocStateLayout.Glibc227To242, MallocParametersLayout.Glibc226To234, 0x20UL, true),
            "2.36" => (MallocStateLayout.Glibc227To242, MallocParametersLayout.Glibc235To242, 0x30UL, true),
            "2.43" => (MallocStateLayout.Glibc243, MallocParametersLayout.Glibc243, 0x30UL, true),
            _ => throw new ArgumentException(version, nameof(version)),
        };
        Memory = new FakeProcessMemory();
        Memory.Map(LibcData, 0x2000);
        Memory.Map(HeapStart, HeapBytes);
        Memory.Map(HeapA, ThreadHeapBytes);
        Memory.Map(HeapB1, ArenaDetectorHeap);
        Memory.Map(HeapB2, ThreadHeapBytes);
        WriteMp();
        ulong stateA = HeapA + _headerSize, stateB = HeapB1 + _headerSize;
        // Ring: main -> newest (B) -> A -> main, as _int_new_arena inserts.
        Expected.Add(Arena(MainArena, next: stateB, main: true, [(HeapStart, HeapStart + HeapBytes)], seed: 1));
        WriteHeapInfo(HeapA, stateA, 0, ThreadHeapBytes);
        WriteHeapInfo(HeapB1, stateB, 0, ArenaDetectorHeap);
        WriteHeapInfo(HeapB2, stateB, HeapB1, ThreadHeapBytes);
        Expected.Add(Arena(stateB, next: stateA, main: false, [(AlignUp(stateB + (ulong)_layout.Size), HeapB1 + ArenaDetectorHeap), (HeapB2 + _headerSize, HeapB2 + ThreadHeapBytes)], seed: 2));
        Expected.Add(Arena(stateA, next: MainArena, main: false, [(AlignUp(stateA + (ulong)_layout.Size), HeapA + ThreadHeapBytes)], seed: 3));
    }

    /// <summary>A full first heap: glibc starts a second heap only when the first reached HEAP_MAX_SIZE.</summary>
    private const ulong ArenaDetectorHeap = ArenaDetector.HeapSize;

    public FakeProcessMemory Memory { get; }

    /// <summary>What each arena must read as, in glibc's order: main, then the ring.</summary>
    public List<(ulong Address, long System, long Free, long Releasable)> Expected { get; } = [];

    public const int MmappedChunks = 3;

    public const long MmappedBytes = 3 * 0x101000;

    public static MappingTable Table()
    {
        string maps = string.Join('\n',
            $"{HeapStart:x}-{HeapStart + HeapBytes:x} rw-p 00000000 00:00 0 [heap]",
            $"{LibcData - 0x1000:x}-{LibcData:x} r--p 001d2000 08:01 4242 /usr/lib/x86_64-linux-gnu/libc.so.6",
            $"{LibcData:x}-{LibcData + 0x2000:x} rw-p 001d3000 08:01 4242 /usr/lib/x86_64-linux-gnu/libc.so.6",
            $"{HeapA:x}-{HeapA + ThreadHeapBytes:x} rw-p 00000000 00:00 0 ",
            $"{HeapA + ThreadHeapBytes:x}-{HeapA + ArenaDetectorHeap:x} ---p 00000000 00:00 0 ",
            $"{HeapB1:x}-{HeapB2 + ThreadHeapBytes:x} rw-p 00000000 00:00 0 ",
            $"{HeapB2 + ThreadHeapBytes:x}-{HeapB2 + ArenaDetectorHeap:x} ---p 00000000 00:00 0 ") + "\n";
        var table = new MappingTable();
        MapsParser.Parse(Encoding.ASCII.GetBytes(maps), table, "synthetic");
        return table;
    }

    public static ulong AlignUp(ulong value) => (value + 15) & ~15UL;

    private (ulong, long, long, long) Arena(ulong state, ulong next, bool main, (ulong Start, ulong End)[] ranges, int seed)
    {
        var random = new Random(seed);
        var bins = new List<ulong>[MallocStateLayout.BinCount];
        var fast = new List<ulong>[MallocStateLayout.FastbinCount];
        long free = 0, releasable = 0;
        ulong inUseFlags = main ? 1UL : 5UL;
        ulong top = 0, topSize = 0;
        for (int r = 0; r < ranges.Length; r++)
        {
            ulong at = ranges[r].Start;
            // Free chunks between in-use ones, in the last range only the first half: the rest is top.
            ulong end = ranges[r].Start + (r == ranges.Length - 1 ? (ranges[r].End - ranges[r].Start) / 2 : 0x200000);
            for (int i = 0; at < end - 0x40000; i++)
            {
                ulong size = (i % 4) switch
                {
                    0 => 32 + ((ulong)random.Next(7) * 16),
                    1 => 48 + ((ulong)random.Next(60) * 16),
                    2 => 1024 + ((ulong)random.Next(4000) * 16),
                    _ => 0x1000 + ((ulong)random.Next(0x2000) * 16),
                };
                bool fastChunk = size <= 128 && _layout.HasFastbins && i % 8 == 0;
                // A big chunk sits in the unsorted bin one time in three, as if freed after the last sort.
                int bin = fastChunk ? -1 : (size > 1024 && random.Next(3) == 0 ? 1 : MallocFreeListWalker.BinIndex(size));
                Memory.WriteWord(at + 8, size | (fastChunk ? inUseFlags : 1));
                if (fastChunk)
                {
                    (fast[(int)(size >> 4) - 2] ??= []).Add(at);
                }
                else
                {
                    (bins[bin] ??= []).Add(at);
                    releasable += bin == 1 || bin >= 99 ? TrimmableInside(at, size) : 0;
                }

                free += (long)size;
                at += size;
                Memory.WriteWord(at + 8, 0x40 | inUseFlags);
                at += 0x40;
            }

            if (r == ranges.Length - 1)
            {
                (top, topSize) = (at, ranges[r].End - at);
                Memory.WriteWord(top + 8, topSize | 1);
            }
            else
            {
                // The rest of an older heap in use, its fenceposts included.
                Memory.WriteWord(at + 8, (ranges[r].End - at) | inUseFlags);
            }
        }

        free += (long)topSize;
        releasable += main ? (long)((topSize - 33) / PageSize * PageSize) : 0;
        WriteState(state, next, main, top, bins, fast);
        long system = main ? (long)HeapBytes : (long)(ranges.Length == 1 ? ThreadHeapBytes : ArenaDetectorHeap + ThreadHeapBytes);
        Memory.WriteWord(state + (ulong)_layout.SystemMemOffset, (ulong)system);
        Memory.WriteWord(state + (ulong)_layout.SystemMemOffset + 8, (ulong)system);
        return (state, system, free, releasable);
    }

    /// <summary>mtrim: the whole pages of a chunk behind its first 48 bytes.</summary>
    private static long TrimmableInside(ulong chunk, ulong size)
    {
        ulong firstPage = (chunk + 48 + PageSize - 1) / PageSize * PageSize;
        ulong lastPageEnd = (chunk + size) / PageSize * PageSize;
        return size > PageSize - 1 + 48 && lastPageEnd > firstPage ? (long)(lastPageEnd - firstPage) : 0;
    }

    private void WriteState(ulong state, ulong next, bool main, ulong top, List<ulong>[] bins, List<ulong>[] fast)
    {
        Memory.WriteInt(state + 4, main ? 0 : 2); // flags: thread arenas are NONCONTIGUOUS
        Memory.WriteWord(state + (ulong)_layout.TopOffset, top);
        for (int bin = 1; bin < MallocStateLayout.BinCount; bin++)
        {
            ulong self = _layout.BinAt(state, bin);
            List<ulong> chunks = bins[bin] ?? [];
            ulong field = state + (ulong)_layout.BinsOffset + ((ulong)(bin - 1) * 16);
            Memory.WriteWord(field, chunks.Count > 0 ? chunks[0] : self);
            Memory.WriteWord(field + 8, chunks.Count > 0 ? chunks[^1] : self);
            for (int i = 0; i < chunks.Count; i++)
            {
                Memory.WriteWord(chunks[i] + 16, i + 1 < chunks.Count ? chunks[i + 1] : self);
                Memory.WriteWord(chunks[i] + 24, i > 0 ? chunks[i - 1] : self);
            }
        }

        for (int i = 0; _layout.HasFastbins && i < MallocStateLayout.FastbinCount; i++)
        {
            List<ulong> chunks = fast[i] ?? [];
            Memory.WriteWord(state + (ulong)_layout.FastbinsOffset + ((ulong)i * 8), chunks.Count > 0 ? chunks[0] : 0);
            for (int c = 0; c < chunks.Count; c++)
            {
                ulong link = c + 1 < chunks.Count ? chunks[c + 1] : 0;
                Memory.WriteWord(chunks[c] + 16, _safeLinking ? ((chunks[c] + 16) >> 12) ^ link : link);
            }
        }

        Memory.WriteWord(state + (ulong)_layout.NextOffset, next);
        Memory.WriteWord(state + (ulong)_layout.AttachedThreadsOffset, 1);
    }

    private void WriteHeapInfo(ulong heap, ulong arena, ulong prev, ulong size)
    {
        Memory.WriteWord(heap, arena);
        Memory.WriteWord(heap + 8, prev);
        Memory.WriteWord(heap + 16, size);
        Memory.WriteWord(heap + 24, size);
        if (_headerSize == 0x30)
        {
            Memory.WriteWord(heap + 32, PageSize);
        }
    }

    private void WriteMp()
    {
        ulong[] words = [128 * 1024, 128 * 1024, 128 * 1024, 8, 0];
        for (int i = 0; i < words.Length; i++)
        {
            Memory.WriteWord(Mp + ((ulong)i * 8), words[i]);
        }

        Memory.WriteInt(Mp + (ulong)_mp.MmapsOffset, MmappedChunks);
        Memory.WriteInt(Mp + (ulong)_mp.MmapsMaxOffset, 65536);
        Memory.WriteInt(Mp + (ulong)_mp.MaxMmapsOffset, 5);
        Memory.WriteWord(Mp + (ulong)_mp.MmappedMemOffset, (ulong)MmappedBytes);
        Memory.WriteWord(Mp + (ulong)_mp.MaxMmappedMemOffset, 5 * 0x101000);
        Memory.WriteWord(Mp + (ulong)_mp.SbrkBaseOffset, HeapStart);
        Memory.WriteWord(Mp + (ulong)_mp.TcacheBinsOffset, _mp == MallocParametersLayout.Glibc243 ? 76UL : 64UL);
        Memory.WriteWord(Mp + (ulong)_mp.TcacheMaxBytesOffset, 1032);
        Memory.WriteWord(Mp + (ulong)_mp.TcacheCountOffset, _mp == MallocParametersLayout.Glibc243 ? 16UL : 7UL);
    }
}

/// <summary>Sparse memory: mapped ranges read as zero until written; counts reads and bytes read.</summary>
public sealed class FakeProcessMemory : IProcessMemory
{
    private readonly List<(ulong Start, ulong End)> _mapped = [];
    private readonly Dictionary<ulong, byte[]> _pages = [];

    public long Reads { get; private set; }

    public long BytesRead { get; private set; }

    /// <summary>Called before each read: a test's way to change the memory under the reader, as a live process does.</summary>
    public Action<FakeProcessMemory, ulong>? BeforeRead { get; set; }

    public IEnumerable<ulong> WrittenPages => _pages.Keys;

    public void Map(ulong start, ulong length) => _mapped.Add((start, start + length));

    public void WriteWord(ulong address, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Span(address, 8), value);

    public void WriteInt(ulong address, int value) => BinaryPrimitives.WriteInt32LittleEndian(Span(address, 4), value);

    public ulong ReadWord(ulong address) => BinaryPrimitives.ReadUInt64LittleEndian(Span(address, 8));

    public Span<byte> Page(ulong page) => _pages.TryGetValue(page, out byte[]? bytes) ? bytes : (_pages[page] = new byte[4096]);

    public bool TryRead(ulong address, Span<byte> buffer)
    {
        Reads++;
        BeforeRead?.Invoke(this, address);
        ulong end = address + (ulong)buffer.Length;
        if (end < address || !_mapped.Any(m => address >= m.Start && end <= m.End))
        {
            return false;
        }

        BytesRead += buffer.Length;
        for (int done = 0; done < buffer.Length;)
        {
            ulong at = address + (ulong)done;
            int inPage = (int)Math.Min(4096 - (at % 4096), (ulong)(buffer.Length - done));
            if (_pages.TryGetValue(at / 4096 * 4096, out byte[]? bytes))
            {
                bytes.AsSpan((int)(at % 4096), inPage).CopyTo(buffer[done..]);
            }
            else
            {
                buffer.Slice(done, inPage).Clear();
            }

            done += inPage;
        }

        return true;
    }

    /// <summary>Every page resident: the figures then follow from the layout alone.</summary>
    public long? ResidentBytes(ulong startAddress, ulong endAddress, bool anonymousPrivate) => (long)(endAddress - startAddress);

    private Span<byte> Span(ulong address, int length)
    {
        if (address % 4096 > (ulong)(4096 - length))
        {
            throw new ArgumentException("write crosses a page", nameof(address));
        }

        return Page(address / 4096 * 4096).Slice((int)(address % 4096), length);
    }
}
