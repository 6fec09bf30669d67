using System.Buffers.Binary;
using System.Diagnostics;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>What one walk of an arena's free lists found; <see cref="Consistent"/> false means a torn or bad read.</summary>
public readonly record struct MallocWalk(bool Consistent, bool OverBudget, ulong TopBytes, ulong FreeBytes, long Chunks, IReadOnlyList<(ulong Start, ulong Length)> TrimRanges);

/// <summary>
/// Walks one arena's free lists as glibc's <c>int_mallinfo</c> does (top, the fastbins, then bins 1..127 through
/// <c>bk</c>), one 32-byte read per chunk, checking every chunk the way a chunk can only look while it sits in that
/// list: inside the arena's heaps, a bin chunk's size word exactly <c>size | PREV_INUSE</c> (it is always coalesced
/// backwards, so no NON_MAIN_ARENA), its size in the range of its bin, its <c>fd</c> the chunk visited before it; a
/// fastbin chunk's size of its fastbin, NON_MAIN_ARENA set exactly in a thread arena. Any failure, or more chunks than
/// the budget allows, ends the walk as inconsistent. Also collects what <c>malloc_trim(0)</c> would give back
/// (<c>mtrim</c>: the whole pages inside chunks of the unsorted bin and of bins from the page size's bin on;
/// <c>systrim</c>: the main arena's top above MINSIZE). tcache is not walked: glibc counts its chunks as in use too.
/// </summary>
public sealed class MallocFreeListWalker
{
    private const ulong PrevInUse = 1, IsMmapped = 2, NonMainArena = 4, FlagBits = 7;
    private const ulong MinSize = 32;
    /// <summary>sizeof(struct malloc_chunk): mtrim keeps a chunk's header and links.</summary>
    private const ulong ChunkStructSize = 48;

    private readonly IProcessMemory _memory;
    private readonly ulong _pageSize;
    private readonly byte[] _chunk = new byte[32];
    private readonly List<(ulong, ulong)> _trim = [];

    public MallocFreeListWalker(IProcessMemory memory, ulong pageSize)
    {
        _memory = memory;
        _pageSize = pageSize;
    }

    /// <summary>Whether fastbin links are safe-linked (glibc 2.32+); null until a link has told.</summary>
    public bool? SafeLinking { get; private set; }

    /// <summary>
    /// Walks the arena whose state (<paramref name="state"/>, read at <paramref name="address"/>) is given, spending at
    /// most <paramref name="chunkBudget"/> chunk reads and stopping at <paramref name="deadline"/> (a Stopwatch timestamp).
    /// <paramref name="trimPage"/> is the main arena's systrim unit (the page size, or mp_.thp_pagesize), 0 for a thread arena.
    /// </summary>
    public MallocWalk Walk(MallocStateLayout layout, ReadOnlySpan<byte> state, ulong address, MallocArenaBounds bounds, bool main, ulong trimPage, long chunkBudget, long deadline)
    {
        _trim.Clear();
        long chunks = 0;
        ulong top = layout.Top(state);
        if (!bounds.HoldsChunk(top, 16) || !ReadChunk(top, 16) || !TryTopSize(bounds, top, out ulong topSize))
        {
            return Torn(0, 0);
        }

        // No more chunks than fit: a cycle the checks miss still ends.
        long limit = Math.Min(chunkBudget, (long)(bounds.Bytes / MinSize));
        ulong free = topSize;
        if (layout.HasFastbins)
        {
            for (int i = 0; i < MallocStateLayout.FastbinCount; i++)
            {
                for (ulong p = layout.Fastbin(state, i); p != 0;)
                {
                    if (!Visit(bounds, p, 24, ref chunks, limit, chunkBudget, deadline, out bool overBudget))
                    {
                        return Torn(topSize, chunks, overBudget);
                    }

                    ulong word = Word(8);
                    ulong size = word & ~FlagBits;
                    if ((int)(size >> 4) - 2 != i || (word & IsMmapped) != 0 || ((word & NonMainArena) != 0) == main || !bounds.HoldsChunk(p, size)
                        || !TryNextFast(bounds, p, Word(16), out p))
                    {
                        return Torn(topSize, chunks);
                    }

                    free += size;
                }
            }
        }

        int pageBin = BinIndex(_pageSize);
        for (int bin = 1; bin < MallocStateLayout.BinCount; bin++)
        {
            ulong self = layout.BinAt(address, bin);
            (ulong first, ulong p) = layout.Bin(state, bin);
            ulong previous = self;
            while (p != self)
            {
                if (!Visit(bounds, p, 32, ref chunks, limit, chunkBudget, deadline, out bool overBudget))
                {
                    return Torn(topSize, chunks, overBudget);
                }

                ulong word = Word(8);
                ulong size = word & ~FlagBits;
                if ((word & FlagBits) != PrevInUse || size < MinSize || !bounds.HoldsChunk(p, size) || Word(16) != previous
                    || (bin >= 2 && BinIndex(size) != bin))
                {
                    return Torn(topSize, chunks);
                }

                free += size;
                if (bin == 1 || bin >= pageBin)
                {
                    AddTrimRange(p, size);
                }

                previous = p;
                p = Word(24);
            }

            if (first != previous)
            {
                return Torn(topSize, chunks);
            }
        }

        if (main && trimPage > 0)
        {
            // systrim(0): sbrk gives back the top beyond MINSIZE, in whole trim units.
            ulong extra = topSize > MinSize + 1 ? (topSize - MinSize - 1) / trimPage * trimPage : 0;
            if (extra > 0)
            {
                _trim.Add((top + topSize - extra, extra));
            }
        }

        return new MallocWalk(true, false, topSize, free, chunks, [.. _trim]);
    }

    /// <summary>
    /// Reads the top chunk's size: inside the heaps, never mmapped, ending inside the range it starts in. Also what a
    /// fallback keeps, from one 16-byte read.
    /// </summary>
    public bool TryReadTop(MallocStateLayout layout, ReadOnlySpan<byte> state, MallocArenaBounds bounds, out ulong topSize)
    {
        topSize = 0;
        ulong top = layout.Top(state);
        return bounds.HoldsChunk(top, 16) && ReadChunk(top, 16) && TryTopSize(bounds, top, out topSize);
    }

    /// <summary>glibc's <c>bin_index</c> on LP64: small bins of 16 bytes below 1024, then <c>largebin_index_64</c>.</summary>
    public static int BinIndex(ulong size) => size < 1024 ? (int)(size >> 4) :
        (size >> 6) <= 48 ? 48 + (int)(size >> 6) :
        (size >> 9) <= 20 ? 91 + (int)(size >> 9) :
        (size >> 12) <= 10 ? 110 + (int)(size >> 12) :
        (size >> 15) <= 4 ? 119 + (int)(size >> 15) :
        (size >> 18) <= 2 ? 124 + (int)(size >> 18) : 126;

    /// <summary>
    /// Counts one more chunk and reads its header when it lies inside the arena; false when the walk must end: a chunk
    /// outside, more chunks than fit (a cycle), the budget or the time spent (<paramref name="overBudget"/>).
    /// </summary>
    private bool Visit(MallocArenaBounds bounds, ulong chunk, int length, ref long chunks, long limit, long budget, long deadline, out bool overBudget)
    {
        chunks++;
        overBudget = chunks > budget || ((chunks & 255) == 0 && Stopwatch.GetTimestamp() > deadline);
        return !overBudget && chunks <= limit && bounds.HoldsChunk(chunk, MinSize) && ReadChunk(chunk, length);
    }

    private bool TryTopSize(MallocArenaBounds bounds, ulong top, out ulong topSize)
    {
        ulong word = Word(8);
        topSize = word & ~FlagBits;
        return (word & IsMmapped) == 0 && topSize >= 16 && topSize % 16 == 0 && bounds.HoldsChunk(top, topSize);
    }

    /// <summary>A fastbin link, safe-linked from 2.32 (<c>(&amp;fd &gt;&gt; 12) ^ next</c>) or raw before: whichever lands on a chunk.</summary>
    private bool TryNextFast(MallocArenaBounds bounds, ulong chunk, ulong stored, out ulong next)
    {
        ulong decoded = ((chunk + 16) >> 12) ^ stored;
        bool protectedEnd = decoded == 0, rawEnd = stored == 0;
        bool protectedOk = protectedEnd || bounds.HoldsChunk(decoded, MinSize);
        bool rawOk = rawEnd || bounds.HoldsChunk(stored, MinSize);
        bool useProtected = SafeLinking ?? (protectedOk && !rawOk);
        if (SafeLinking is null && protectedOk != rawOk)
        {
            SafeLinking = protectedOk;
        }

        next = useProtected ? (protectedEnd ? 0 : decoded) : stored;
        return useProtected ? protectedOk : rawOk;
    }

    private void AddTrimRange(ulong chunk, ulong size)
    {
        ulong mask = _pageSize - 1;
        if (size <= mask + ChunkStructSize)
        {
            return;
        }

        ulong aligned = (chunk + ChunkStructSize + mask) & ~mask;
        ulong rest = size - (aligned - chunk);
        if (rest > mask)
        {
            _trim.Add((aligned, rest & ~mask));
        }
    }

    private bool ReadChunk(ulong address, int length) => _memory.TryRead(address, _chunk.AsSpan(0, length));

    private ulong Word(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(_chunk.AsSpan(offset));

    private static MallocWalk Torn(ulong top, long chunks, bool overBudget = false) => new(false, overBudget, top, 0, chunks, []);
}
