using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying;

/// <summary>
/// What the kernel lets us see beyond the maps text: the process's memory (glibc's heap headers, malloc chunk
/// headers), each thread's stack pointer, and the JVM's own counters. Each is optional: without permission
/// the classifier falls back to layout rules and counts the fallback.
/// </summary>
public sealed class ExactSources
{
    public IProcessMemory? Memory { get; init; }

    /// <summary>Every thread, with its stack pointer where the kernel showed one.</summary>
    public IReadOnlyList<ThreadSample>? Threads { get; init; }

    public HsPerfData? PerfData { get; init; }

    /// <summary>Whether the process is a JVM (hsperfdata is only looked for there).</summary>
    public bool IsJvm { get; init; }

    /// <summary>How much reading malloc's free lists may cost per process; null is <see cref="MallocReadLimits.Default"/>.</summary>
    public MallocReadLimits? MallocLimits { get; init; }

    /// <summary>What earlier inspections of the same process found behind leftover VMAs; null searches them all.</summary>
    public ChunkProbes? ChunkProbes { get; init; }

    /// <summary>Where earlier inspections of the same process found jemalloc's page map; null finds it each time.</summary>
    public JemallocRootCache? JemallocRoot { get; init; }
}

/// <summary>How a category's regions were decided, for the report; the ids are label values.</summary>
public enum DecisionMethod
{
    /// <summary>Layout, permissions, alignment, sizes and VmFlags of the maps/smaps text.</summary>
    Layout,
    /// <summary>glibc's heap_info headers read from the process.</summary>
    HeapInfo,
    /// <summary>glibc's malloc chunk headers read from the process.</summary>
    ChunkHeader,
    /// <summary>Each thread's stack pointer from /proc/PID/task/TID/syscall.</summary>
    StackPointer,
    /// <summary>The JVM's own sizes from hsperfdata.</summary>
    HsPerfData,
    /// <summary>glibc's malloc_state and free lists read from the process (an arena's free and in-use bytes).</summary>
    MallocState,
    /// <summary>jemalloc's page map (its extents) and base blocks (its metadata) read from the process.</summary>
    JemallocExtents,
}

public static class DecisionMethods
{
    public static string Id(this DecisionMethod method) => method switch
    {
        DecisionMethod.HeapInfo => "heap_info",
        DecisionMethod.ChunkHeader => "chunk_header",
        DecisionMethod.StackPointer => "stack_pointer",
        DecisionMethod.HsPerfData => "hsperfdata",
        DecisionMethod.MallocState => "malloc_state",
        DecisionMethod.JemallocExtents => "jemalloc_extents",
        _ => "layout",
    };
}
