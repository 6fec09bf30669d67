using System.Buffers.Binary;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>The fields of glibc's <c>struct malloc_par mp_</c> that are read: LP64 offsets for 2.26-2.34, 2.35-2.42 and 2.43.</summary>
public sealed record MallocParametersLayout(
    string Name,
    int Size,
    int ThpPageSizeOffset,
    int MmapsOffset,
    int MmapsMaxOffset,
    int MaxMmapsOffset,
    int MmappedMemOffset,
    int MaxMmappedMemOffset,
    int SbrkBaseOffset,
    int TcacheBinsOffset,
    int TcacheMaxBytesOffset,
    int TcacheCountOffset)
{
    public static readonly MallocParametersLayout Glibc226To234 = new("2.26-2.34", 112, -1, 40, 44, 48, 56, 64, 72, 80, 88, 96);
    public static readonly MallocParametersLayout Glibc235To242 = new("2.35-2.42", 136, 40, 60, 64, 68, 80, 88, 96, 104, 112, 120);
    public static readonly MallocParametersLayout Glibc243 = new("2.43", 144, 48, 68, 72, 76, 88, 96, 104, 112, 120, 128);

    public static readonly IReadOnlyList<MallocParametersLayout> All = [Glibc235To242, Glibc226To234, Glibc243];
}

/// <summary>mp_'s process-wide counts of chunks mmapped on their own (no arena holds them), and the THP trim unit.</summary>
public readonly record struct MallocParameters(int MmappedChunks, ulong MmappedBytes, ulong ThpPageSize);

/// <summary>
/// Finds <c>mp_</c>, a static of libc's .data that no symbol table outside debug info names, by scoring every
/// 8-aligned place of libc's read/write mapping against each layout: counts that cannot be negative or above their
/// maxima, page-multiple byte counts, the mmap threshold within glibc's bound (32 MiB), then the defaults
/// (n_mmaps_max 65536, 64 or 76 tcache bins of up to 1032 bytes, 7 or 16 per bin, arena_test 8) and
/// <c>sbrk_base</c> at the start of <c>[heap]</c>. Tunables can move a default, so it is a score; the best place
/// must reach <see cref="MinimumScore"/> and be the only one with its score.
/// </summary>
public static class MallocParametersLocator
{
    public const int MinimumScore = 6;
    private static readonly ulong PageSize = SystemPage.Size;
    private const ulong MaxMmapThreshold = 32UL * 1024 * 1024;

    /// <summary>The address and layout of mp_ within <paramref name="data"/> (read at <paramref name="dataAddress"/>), or null.</summary>
    public static (ulong Address, MallocParametersLayout Layout)? Locate(ReadOnlySpan<byte> data, ulong dataAddress, ulong heapStart)
    {
        (ulong Address, MallocParametersLayout Layout)? best = null;
        int bestScore = MinimumScore - 1;
        bool tie = false;
        foreach (MallocParametersLayout layout in MallocParametersLayout.All)
        {
            for (int offset = 0; offset + layout.Size <= data.Length; offset += 8)
            {
                int score = Score(data.Slice(offset, layout.Size), layout, heapStart);
                if (score > bestScore)
                {
                    (best, bestScore, tie) = ((dataAddress + (ulong)offset, layout), score, false);
                }
                else if (score == bestScore && best is not null)
                {
                    tie = true;
                }
            }
        }

        return tie ? null : best;
    }

    /// <summary>Reads the counts at a located mp_; null when unreadable or no longer plausible.</summary>
    public static MallocParameters? Read(IProcessMemory memory, ulong address, MallocParametersLayout layout, ulong heapStart)
    {
        Span<byte> data = stackalloc byte[layout.Size];
        if (!memory.TryRead(address, data) || Score(data, layout, heapStart) < 0)
        {
            return null;
        }

        return new MallocParameters(Int(data, layout.MmapsOffset), Word(data, layout.MmappedMemOffset), layout.ThpPageSizeOffset < 0 ? 0 : Word(data, layout.ThpPageSizeOffset));
    }

    /// <summary>-1 when the bytes cannot be mp_ in this layout, else how many defaults and cross-checks they meet.</summary>
    public static int Score(ReadOnlySpan<byte> mp, MallocParametersLayout layout, ulong heapStart)
    {
        int mmaps = Int(mp, layout.MmapsOffset), mmapsMax = Int(mp, layout.MmapsMaxOffset), maxMmaps = Int(mp, layout.MaxMmapsOffset);
        ulong mmapped = Word(mp, layout.MmappedMemOffset), maxMmapped = Word(mp, layout.MaxMmappedMemOffset);
        ulong mmapThreshold = Word(mp, 16), tcacheBins = Word(mp, layout.TcacheBinsOffset), tcacheCount = Word(mp, layout.TcacheCountOffset);
        if (mmaps < 0 || mmapsMax < 0 || maxMmaps < mmaps || mmapped > maxMmapped || mmapped % PageSize != 0 || maxMmapped % PageSize != 0
            || (mmaps == 0) != (mmapped == 0) || mmapThreshold > MaxMmapThreshold || tcacheBins > 76 || tcacheCount > ushort.MaxValue)
        {
            return -1;
        }

        int score = 0;
        score += mmapsMax == 65536 ? 2 : 0;
        score += tcacheBins is 64 or 76 ? 2 : 0;
        score += Word(mp, layout.TcacheMaxBytesOffset) == 1032 ? 1 : 0;
        score += tcacheCount is 7 or 16 ? 1 : 0;
        score += Word(mp, 24) == 8 ? 1 : 0;
        score += mmapThreshold >= 128 * 1024 ? 1 : 0;
        score += heapStart != 0 && Word(mp, layout.SbrkBaseOffset) == heapStart ? 3 : 0;
        return score;
    }

    private static int Int(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);

    private static ulong Word(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(data[offset..]);
}
