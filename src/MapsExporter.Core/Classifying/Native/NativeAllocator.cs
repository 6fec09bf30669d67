namespace MapsExporter.Core.Classifying.Native;

/// <summary>Which malloc a process uses. The ids (<see cref="NativeAllocators.Id"/>) are label values.</summary>
public enum NativeAllocator
{
    Glibc,
    Jemalloc,
    Tcmalloc,
    Mimalloc,
    Musl,
    /// <summary>None of the above could be told: a static binary, or a malloc linked into the program.</summary>
    Other,
}

public static class NativeAllocators
{
    public static string Id(this NativeAllocator allocator) => allocator switch
    {
        NativeAllocator.Glibc => "glibc",
        NativeAllocator.Jemalloc => "jemalloc",
        NativeAllocator.Tcmalloc => "tcmalloc",
        NativeAllocator.Mimalloc => "mimalloc",
        NativeAllocator.Musl => "musl",
        _ => "other",
    };
}
