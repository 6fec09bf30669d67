using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// Real JVMs on both JDKs, with each collector and the flags that change the layout, each read twice: by the
/// text alone (what a maps/smaps dump allows) and with the exact methods (heap headers, stack pointers,
/// hsperfdata, chunk headers). Both are checked against the JVM's Native Memory Tracking and glibc's
/// malloc_stats. Tolerances, stated where they apply: none for the exact methods; for the text alone, a heap
/// without compressed oops may hold G1's tables beside it, and a segment map merged with a neighbour is missed.
/// Direct ByteBuffers (malloc's own mmaps, which merge with HotSpot's reservations) are tested on their own in
/// <see cref="ExactClassificationTests"/>: only the exact methods split such merges.
/// </summary>
public sealed class LiveJvmReportTests
{
    private const long MiB = 1024 * 1024;

    public static TheoryData<string, string, string[], int, int?> Configurations() => new()
    {
        { "17 G1", RepoPaths.Jdk17, ["-XX:+UseG1GC", "-Xmx512m"], 20, null },
        { "17 Parallel", RepoPaths.Jdk17, ["-XX:+UseParallelGC", "-Xmx256m"], 10, null },
        { "17 Serial MALLOC_ARENA_MAX=1", RepoPaths.Jdk17, ["-XX:+UseSerialGC", "-Xmx128m"], 10, 1 },
        { "17 ZGC", RepoPaths.Jdk17, ["-XX:+UseZGC", "-Xmx512m"], 10, null },
        { "17 Shenandoah MALLOC_ARENA_MAX=4", RepoPaths.Jdk17, ["-XX:+UseShenandoahGC", "-Xmx512m"], 30, 4 },
        { "17 G1 no compressed oops", RepoPaths.Jdk17, ["-XX:-UseCompressedOops", "-Xmx1g"], 10, null },
        { "17 G1 Xss256k 500 threads", RepoPaths.Jdk17, ["-Xss256k", "-Xmx256m"], 500, null },
        { "17 G1 Xss8m", RepoPaths.Jdk17, ["-Xss8m", "-Xmx256m"], 20, null },
        { "25 G1", RepoPaths.Jdk25, ["-XX:+UseG1GC", "-Xmx512m"], 20, null },
        { "25 ZGC", RepoPaths.Jdk25, ["-XX:+UseZGC", "-Xmx512m"], 10, null },
        { "25 Parallel MALLOC_ARENA_MAX=1", RepoPaths.Jdk25, ["-XX:+UseParallelGC", "-Xmx256m"], 10, 1 },
        { "25 Serial", RepoPaths.Jdk25, ["-XX:+UseSerialGC", "-Xmx256m"], 10, null },
        { "25 Shenandoah Xss8m 200 threads", RepoPaths.Jdk25, ["-XX:+UseShenandoahGC", "-Xmx512m", "-Xss8m"], 200, null },
        { "25 G1 no compressed oops Xss512k MALLOC_ARENA_MAX=4", RepoPaths.Jdk25, ["-XX:-UseCompressedOops", "-Xss512k", "-Xmx1g"], 100, 4 },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Reports_match_native_memory_tracking_and_glibc(string name, string jdk, string[] flags, int threads, int? arenaMax)
    {
        Dictionary<string, string>? environment = arenaMax is { } max ? new() { ["MALLOC_ARENA_MAX"] = max.ToString(CultureInfo.InvariantCulture) } : null;
        using JavaWorkload jvm = JavaWorkload.Start(jdk, flags, threads, ["--native-churn"], environment);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport text = inspector.Inspect(jvm.Pid, exact: false).Report;
        MemoryReport exact = inspector.Inspect(jvm.Pid).Report;
        NmtSummary nmt = jvm.NativeMemorySummary();
        int glibcArenas = jvm.GlibcArenaCount();

        foreach (MemoryReport report in new[] { text, exact })
        {
            Assert.True(report.IsJvm, name);
            Assert.Equal("Workload", report.App);
            Assert.True(report.ResidentKnown);
            Assert.Equal(nmt.MetaspaceReserved + nmt.ClassSpaceReserved, report[RegionCategory.Metaspace].VirtualBytes);
            Assert.Equal(nmt.Reserved("Shared class space"), report[RegionCategory.CdsArchive].VirtualBytes);

            // Every thread has its stack; NMT (read after, with jcmd's Attach Listener, without the primordial thread) agrees.
            Assert.True(report.Threads >= threads + 10, $"{report.Threads} threads");
            Assert.Equal(report.Threads, report.ThreadStacks);
            Assert.Equal(report.Threads, nmt.Threads);

            Assert.Equal(glibcArenas - 1, report.LibcArenas);
            if (arenaMax is { } limit)
            {
                Assert.Equal(limit - 1, report.LibcArenas);
            }
        }

        // The text alone.
        long heap = nmt.Reserved("Java Heap");
        if (flags.Contains("-XX:-UseCompressedOops"))
        {
            // Without compressed oops the heap lands among other reservations in the mmap area, and G1's tables
            // beside it (same shape, same flags) merge into its run: from the text alone the heap holds at least
            // MaxHeapSize and at most that plus what NMT counts as GC data.
            Assert.InRange(text[RegionCategory.JavaHeap].VirtualBytes, heap, heap + nmt.Reserved("GC"));
        }
        else
        {
            Assert.Equal(heap, text[RegionCategory.JavaHeap].VirtualBytes);
        }

        // The code heaps are ReservedCodeCacheSize (240 MiB, JDK 25 one page more); a segment map merged with a
        // neighbour is only split off with the exact methods.
        Assert.InRange(text[RegionCategory.CodeCache].VirtualBytes, 240 * MiB, nmt.MmapReserved("Code"));
        // What the text leaves unknown is what only the exact methods tell (malloc's mmapped chunks, G1's tables
        // sized from the JVM's heap) and under 5% of Rss more.
        long textUnknown = text[RegionCategory.Unknown].ResidentBytes!.Value;
        long exactOnly = exact[RegionCategory.MallocMmap].ResidentBytes!.Value + exact[RegionCategory.Gc].ResidentBytes!.Value;
        Assert.True(textUnknown <= exactOnly + (text.Total.ResidentBytes!.Value / 20), $"unknown {textUnknown}, exact-only {exactOnly}, rss {text.Total.ResidentBytes}");

        // The exact methods: the JVM's and glibc's own accounting, exactly.
        Assert.DoesNotContain(DecisionMethod.HeapInfo, exact.Fallbacks);
        Assert.DoesNotContain(DecisionMethod.ChunkHeader, exact.Fallbacks);
        Assert.DoesNotContain(DecisionMethod.HsPerfData, exact.Fallbacks);
        Assert.Equal(DecisionMethod.HeapInfo, exact.Methods[(int)RegionCategory.LibcArena]);
        Assert.Equal(DecisionMethod.StackPointer, exact.Methods[(int)RegionCategory.ThreadStack]);
        Assert.Equal(DecisionMethod.ChunkHeader, exact.Methods[(int)RegionCategory.MallocMmap]);
        Assert.Equal(heap, exact[RegionCategory.JavaHeap].VirtualBytes);
        Assert.Equal(nmt.MmapReserved("Code"), exact[RegionCategory.CodeCache].VirtualBytes);
        Assert.Equal(exact.LibcArenas, exact.Arenas.Count(a => !a.Main));
        Assert.Single(exact.Arenas, a => a.Main);
        Assert.Equal(exact.LibcArenaHeaps, exact.Arenas.Sum(a => a.Heaps));
        Assert.Equal((ulong)exact.LibcArenaHeaps * ArenaDetector.HeapSize, (ulong)exact[RegionCategory.LibcArena].VirtualBytes);
        Assert.Equal(threads, exact.ThreadGroups["worker-N"].Threads);
        Assert.Equal(exact.ThreadStacks, exact.ThreadGroups.Values.Sum(g => g.Threads));
        Assert.NotNull(exact.Jvm);
        Assert.StartsWith(jdk == RepoPaths.Jdk17 ? "17." : "25.", exact.Jvm!.Version, StringComparison.Ordinal);
        Assert.True(exact.Jvm.HeapCommittedBytes <= exact.Jvm.HeapMaxBytes);
        if (!flags.Contains("-XX:+UseZGC"))
        {
            // ZGC's NMT heap is its address space (every view); hsperfdata gives MaxHeapSize.
            Assert.Equal(heap, exact.Jvm.HeapMaxBytes);
            Assert.Equal(DecisionMethod.HsPerfData, exact.Methods[(int)RegionCategory.JavaHeap]);
        }

        Assert.InRange((double)exact[RegionCategory.Unknown].ResidentBytes!.Value / exact.Total.ResidentBytes!.Value, 0, 0.05);
        if (flags.Contains("-XX:+UseG1GC") || !flags.Any(f => f.StartsWith("-XX:+Use", StringComparison.Ordinal)))
        {
            // G1 (the default): what is found of its tables is whole tables (a table merged with a neighbour is not).
            Assert.Equal("G1", exact.Jvm.Gc);
            Assert.Equal(0, exact[RegionCategory.Gc].VirtualBytes % (heap / 512));
        }
    }

    [Fact]
    public void Maps_only_gives_the_same_layout_without_resident_sizes()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx256m"], 10);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport smaps = inspector.Inspect(jvm.Pid, exact: false).Report;
        MemoryReport maps = inspector.Inspect(jvm.Pid, useSmaps: false, exact: false).Report;
        Assert.False(maps.ResidentKnown);
        Assert.Null(maps.Total.ResidentBytes);
        foreach (RegionCategory category in new[] { RegionCategory.JavaHeap, RegionCategory.Metaspace, RegionCategory.CdsArchive, RegionCategory.CodeCache })
        {
            Assert.Equal(smaps[category].VirtualBytes, maps[category].VirtualBytes);
        }

        Assert.Equal(smaps.LibcArenas, maps.LibcArenas);
        Assert.Equal(smaps.ThreadStacks, maps.ThreadStacks);
    }
}
