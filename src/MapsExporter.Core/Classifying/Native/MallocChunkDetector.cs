using System.Buffers.Binary;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Large allocations (128 KiB and up by default) glibc serves with an mmap of their own: direct ByteBuffers,
/// zlib's buffers, big native arrays. Each mapping starts with a chunk header, <c>prev_size</c> (0) then
/// <c>size | IS_MMAPPED (0x2)</c>; neighbouring chunks merge into one VMA, and so does a HotSpot reservation
/// beside them (same permissions, same flags). Walking the headers chunk by chunk from the VMA's start finds
/// where the chunks end: that part is split off as malloc's, the rest is left for the other steps. Needs the
/// process's memory; without it these stay <see cref="RegionCategory.Unknown"/>.
/// </summary>
public static class MallocChunkDetector
{
    private const ulong IsMmapped = 0x2;
    private const ulong FlagBits = 0x7;
    private static readonly ulong PageSize = SystemPage.Size;

    /// <summary>glibc's smallest mmap threshold (DEFAULT_MMAP_THRESHOLD_MIN): smaller requests come from arenas.</summary>
    private const ulong MinimumChunk = 128 * 1024;

    /// <summary>Largest leftover VMA searched page by page for chunks behind another mapping, and the most probes per process.</summary>
    private const ulong MaxProbedVma = 16 * 1024 * 1024;
    private const int MaxProbesPerProcess = 4096;

    /// <summary>
    /// After everything else is classified: chunks merged behind another mapping (a reservation mapped later right
    /// below them) start somewhere inside a leftover VMA. Each page of a small leftover VMA is tried as the first
    /// chunk; a chain that ends exactly at the VMA's end is malloc's, and the VMA is split there. With
    /// <paramref name="cache"/> (a process inspected again), a VMA searched recently with the same bounds is not
    /// searched again (see <see cref="ChunkProbes"/>); the result is the same.
    /// </summary>
    public static void DetectBehind(MappingTable table, Classification result, IProcessMemory? memory, ChunkProbes? cache = null)
    {
        if (memory is null)
        {
            return;
        }

        cache?.BeginInspection();
        Span<byte> header = stackalloc byte[16];
        int probes = 0;
        for (int i = 0; i < table.Count && probes < MaxProbesPerProcess; i++)
        {
            Mapping m = table[i];
            if (result.IsAssigned(i) || m.Kind != MappingKind.Anonymous || !m.IsPrivateReadWrite || (m.Permissions & Permissions.Execute) != 0
                || m.Size > MaxProbedVma || m.Size <= MinimumChunk)
            {
                continue;
            }

            int budget = MaxProbesPerProcess - probes;
            ulong chainStart = 0;
            int chunks = 0;
            if (cache is not null && cache.TryGetRecent(m.Start, m.End, out ulong known))
            {
                // Charged what the search would have probed before it stopped, so that the VMAs after this one get
                // the budget they get without the cache, and the same result.
                int before = known == 0 ? Positions(m) : (int)((known - m.Start) / PageSize);
                if (known == 0 || before > budget)
                {
                    probes += Math.Min(before, budget);
                    continue;
                }

                chunks = Walk(memory, header, known, m.End, out ulong end);
                if (chunks > 0 && end == m.End)
                {
                    probes += before;
                    chainStart = known;
                }
            }

            if (chainStart == 0)
            {
                chainStart = Search(memory, header, m, ref probes, out chunks);
                if (chainStart != 0 || Positions(m) <= budget)
                {
                    // Complete: a search cut short by the budget says nothing of the pages it did not try.
                    cache?.Searched(m.Start, m.End, chainStart);
                }
            }

            if (chainStart != 0)
            {
                result.SplitAt(table, i, chainStart, memory);
                result.Assign(i + 1, RegionCategory.MallocMmap);
                result.MallocMmapChunks += chunks;
                i++;
            }
        }

        cache?.EndInspection();
    }

    /// <summary>The first page of <paramref name="m"/> (after its first) where a chain of chunks ends at its end, or 0.</summary>
    private static ulong Search(IProcessMemory memory, Span<byte> header, Mapping m, ref int probes, out int chunks)
    {
        for (ulong start = m.Start + PageSize; start + MinimumChunk <= m.End && probes < MaxProbesPerProcess; start += PageSize)
        {
            probes++;
            chunks = Walk(memory, header, start, m.End, out ulong end);
            if (chunks > 0 && end == m.End)
            {
                return start;
            }
        }

        chunks = 0;
        return 0;
    }

    /// <summary>How many pages <see cref="Search"/> tries in <paramref name="m"/> when it finds nothing.</summary>
    private static int Positions(Mapping m) => (int)((m.Size - MinimumChunk) / PageSize);

    private static int Walk(IProcessMemory memory, Span<byte> header, ulong at, ulong limit, out ulong end)
    {
        int chunks = 0;
        while (at < limit && memory.TryRead(at, header))
        {
            ulong prevSize = BinaryPrimitives.ReadUInt64LittleEndian(header);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            ulong chunk = size & ~FlagBits;
            if (prevSize != 0 || (size & IsMmapped) == 0 || chunk < MinimumChunk || chunk % PageSize != 0 || chunk > limit - at)
            {
                break;
            }

            chunks++;
            at += chunk;
        }

        end = at;
        return chunks;
    }

    public static void Detect(MappingTable table, Classification result, IProcessMemory? memory)
    {
        if (memory is null)
        {
            result.Fallbacks.Add(DecisionMethod.ChunkHeader);
            return;
        }

        Span<byte> header = stackalloc byte[16];
        for (int i = 0; i < table.Count; i++)
        {
            ref readonly Mapping m = ref table[i];
            if (result.IsAssigned(i) || m.Kind != MappingKind.Anonymous || !m.IsPrivateReadWrite || (m.Permissions & Permissions.Execute) != 0
                || (m.HasFlag(VmFlags.Known) && !m.HasFlag(VmFlags.Accountable)))
            {
                continue;
            }

            int chunks = Walk(memory, header, m.Start, m.End, out ulong at);
            if (chunks == 0)
            {
                continue;
            }

            if (at < m.End)
            {
                result.SplitAt(table, i, at, memory);
            }

            result.Assign(i, RegionCategory.MallocMmap);
            result.MallocMmapChunks += chunks;
        }

        result.Decided(RegionCategory.MallocMmap, DecisionMethod.ChunkHeader);
    }
}
