namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// One process's malloc bookkeeping over all its arenas, as glibc's <c>malloc_stats</c>/<c>malloc_info</c> would print it,
/// plus what <c>malloc_trim(0)</c> would give back and mp_'s chunks mmapped on their own. A figure is null when an
/// arena's free lists could not be read consistently (the fallback is counted), or mp_ was not found.
/// </summary>
public sealed record MallocSummary(
    string? Allocator,
    long? SystemBytes,
    long? InUseBytes,
    long? FreeBytes,
    long? ReleasableBytes,
    long? MmappedBytes,
    int? MmappedChunks)
{
    /// <summary>
    /// The allocator as far as the malloc_state reader can tell: <c>glibc</c> when it read an initialised main_arena,
    /// else null. Naming the others (jemalloc, tcmalloc, mimalloc, musl) is AllocatorDetector's part of issue 14, which
    /// replaces this value.
    /// </summary>
    public const string Glibc = "glibc";

    /// <summary>Sums the arenas' figures; a sum is null when any arena's figure is.</summary>
    public static MallocSummary Of(string? allocator, IReadOnlyList<ArenaInfo> arenas, MallocParameters? mp)
    {
        static long? Sum(IReadOnlyList<ArenaInfo> arenas, Func<ArenaInfo, long?> figure) =>
            arenas.Count == 0 || arenas.Any(a => figure(a) is null) ? null : arenas.Sum(a => figure(a)!.Value);

        return new MallocSummary(
            allocator,
            Sum(arenas, a => a.SystemBytes),
            Sum(arenas, a => a.InUseBytes),
            Sum(arenas, a => a.FreeBytes),
            Sum(arenas, a => a.ReleasableBytes),
            mp is { } m ? (long)m.MmappedBytes : null,
            mp?.MmappedChunks);
    }
}
