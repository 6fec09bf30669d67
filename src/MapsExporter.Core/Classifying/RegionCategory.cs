namespace MapsExporter.Core.Classifying;

/// <summary>What a memory region is. The ids (<see cref="RegionCategories.Id"/>) are stable: they become metric label values.</summary>
public enum RegionCategory
{
    JavaHeap,
    CodeCache,
    Metaspace,
    CdsArchive,
    ThreadStack,
    MainArena,
    LibcArena,
    SharedLibrary,
    MappedFile,
    Kernel,
    /// <summary>Large allocations glibc mmapped on their own (direct ByteBuffers, big native buffers; NMT's "Other").</summary>
    MallocMmap,
    /// <summary>The collector's own tables beside the heap (G1's mark bitmaps, block offset, card tables).</summary>
    Gc,
    /// <summary>Anonymous memory a malloc other than glibc's holds, found from its own bookkeeping (jemalloc's extents and metadata).</summary>
    NativeAllocator,
    Unknown,
}

public static class RegionCategories
{
    public const int Count = (int)RegionCategory.Unknown + 1;

    private static readonly string[] Ids =
    [
        "java_heap", "code_cache", "metaspace", "cds_archive", "thread_stack", "main_arena",
        "libc_arena", "shared_library", "mapped_file", "kernel", "malloc_mmap", "gc", "native_allocator", "unknown",
    ];

    public static IReadOnlyList<RegionCategory> All { get; } = Enum.GetValues<RegionCategory>();

    public static string Id(this RegionCategory category) => Ids[(int)category];

    public static bool TryParse(string id, out RegionCategory category)
    {
        int index = Array.IndexOf(Ids, id);
        category = (RegionCategory)Math.Max(index, 0);
        return index >= 0;
    }
}
