using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying;

/// <summary>
/// Sorts every mapping into one <see cref="RegionCategory"/>. Each step only looks at mappings the earlier
/// steps left; the order matters: names and files first, then arenas and stacks (exact from the process when
/// <see cref="ExactSources"/> allow, else by layout), malloc's own mmaps, then HotSpot's reservations.
/// </summary>
public static class RegionClassifier
{
    public static void Classify(MappingTable table, Classification result, ExactSources? exact = null)
    {
        result.Reset(table.Count);
        NamedRegionClassifier.Classify(table, result);
        FileMappingClassifier.Classify(table, result);
        ArenaDetector.Detect(table, result, exact?.Memory, exact?.MallocLimits);
        ThreadStackLocator.Locate(table, result, exact?.Threads);
        // Before HotSpot's reservations: a chunk merged with one of them is split off first.
        MallocChunkDetector.Detect(table, result, exact?.Memory);
        // Before HotSpot's reservations too: jemalloc's own map is exact, and its mappings merge with the JVM's.
        NameAllocator(table, result, exact);
        // HotSpot's reservations only in a HotSpot process: another runtime's big anonymous reservation (a .NET
        // GC heap, a Go arena) has the Java heap's shape and would be reported as one.
        if (exact?.IsJvm ?? JvmDetector.MapsLibJvm(table))
        {
            CodeCacheLocator.Locate(table, result);
            ClassSpaceLocator.Locate(table, result, exact?.PerfData);
            JavaHeapLocator.Locate(table, result, exact?.PerfData, exact?.Memory);
            ClassSpaceLocator.LocateBySize(table, result, exact?.PerfData);
            // Segment maps first: one merged with a collector's table is split off it. Then the collector's tables,
            // before the metaspace nodes: a table can have a node's size and shape.
            CodeHeapSegmentMapLocator.Locate(table, result, exact?.PerfData, exact?.Memory);
            GcTableLocator.Locate(table, result, exact?.PerfData);
            MetaspaceLocator.Locate(table, result);
        }

        LibraryBssAttributor.Attribute(table, result);
        MallocChunkDetector.DetectBehind(table, result, exact?.Memory, exact?.ChunkProbes);
        if (exact?.IsJvm ?? false)
        {
            GcTableLocator.Locate(table, result, exact.PerfData, secondPass: true);
        }

        result.AssignRemainingUnknown();

        if (exact is null)
        {
            // A dump has nothing exact to fall back from.
            result.Fallbacks.Clear();
        }
        else if (exact.IsJvm && exact.PerfData is null)
        {
            result.Fallbacks.Add(DecisionMethod.HsPerfData);
        }
    }

    /// <summary>
    /// Names the process's malloc. A named malloc other than glibc's owns the brk heap (<c>[heap]</c>: tcmalloc and musl
    /// grow it, glibc's main arena is unused), and for jemalloc what its own bookkeeping covers becomes native_allocator.
    /// </summary>
    private static void NameAllocator(MappingTable table, Classification result, ExactSources? exact)
    {
        IProcessMemory? memory = exact?.Memory;
        result.Allocator = AllocatorDetector.Detect(table, MainArenaProbe.IsInitialised(table, result, memory));
        if (result.Allocator is NativeAllocator.Glibc or NativeAllocator.Other)
        {
            return;
        }

        for (int i = 0; i < table.Count; i++)
        {
            if (result[i] == RegionCategory.MainArena)
            {
                result.Assign(i, RegionCategory.NativeAllocator);
            }
        }

        if (result.Allocator == NativeAllocator.Jemalloc && memory is not null && JemallocExtentLocator.Locate(table, result, memory, exact?.JemallocRoot))
        {
            result.Decided(RegionCategory.NativeAllocator, DecisionMethod.JemallocExtents);
        }
    }
}
