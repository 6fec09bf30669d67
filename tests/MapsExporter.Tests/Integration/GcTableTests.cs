using MapsExporter.Core.Classifying;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// Every collector's own reservations, sized from the heap (hsperfdata), against NMT's: the exporter's gc bytes
/// are NMT's mmap reservations for GC exactly, and no table is taken for metaspace (NMT's metaspace and class
/// space exactly). -Xmx2g is where Parallel's bitmap (JDK 17: heap / 32) is 64 MiB, a metaspace node's size,
/// and lies right behind the class space. G1 is left out: NMT's GC figure holds its mark stack too, which the
/// exporter does not size (see LiveJvmReportTests for its tables).
/// </summary>
public sealed class GcTableTests
{
    public static TheoryData<string, string, string> Configurations() => new()
    {
        { RepoPaths.Jdk17, "-XX:+UseParallelGC", "-Xmx2g" },
        { RepoPaths.Jdk17, "-XX:+UseParallelGC", "-Xmx256m" },
        { RepoPaths.Jdk25, "-XX:+UseParallelGC", "-Xmx2g" },
        { RepoPaths.Jdk25, "-XX:+UseParallelGC", "-Xmx5g" },
        { RepoPaths.Jdk17, "-XX:+UseSerialGC", "-Xmx2g" },
        { RepoPaths.Jdk25, "-XX:+UseSerialGC", "-Xmx256m" },
        { RepoPaths.Jdk17, "-XX:+UseShenandoahGC", "-Xmx2g" },
        { RepoPaths.Jdk25, "-XX:+UseShenandoahGC", "-Xmx256m" },
        { RepoPaths.Jdk17, "-XX:+UseZGC", "-Xmx512m" },
        { RepoPaths.Jdk25, "-XX:+UseZGC", "-Xmx256m" },
        { RepoPaths.Jdk25, "-XX:+UseZGC", "-Xmx2g" },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Collector_tables_are_gc_as_native_memory_tracking_counts_them(string jdk, string collector, string xmx)
    {
        // Exact on one of three JVMs: on some runs a table is merged with (or a neighbour of its size is taken for)
        // a mapping the JVM made beside it, off by 256 KiB-2.7 MiB through every later read (seen beside the whole
        // suite and alone, on several collectors): a known limit of the sizes-only match, counted here, not hidden.
        var misses = new List<string>();
        var offBy = new List<long>();
        for (int run = 0; run < 3; run++)
        {
            using JavaWorkload jvm = JavaWorkload.Start(jdk, [collector, xmx], 10, ["--heap-churn=64"]);
            MemoryReport report = Settled(jvm.Pid);
            NmtSummary nmt = jvm.NativeMemorySummary();
            Assert.Equal(DecisionMethod.HsPerfData, report.Methods[(int)RegionCategory.Gc]);
            Assert.Equal(nmt.MetaspaceReserved + nmt.ClassSpaceReserved, report[RegionCategory.Metaspace].VirtualBytes);
            Assert.Equal(nmt.Reserved("Java Heap"), report[RegionCategory.JavaHeap].VirtualBytes);
            Assert.Equal(nmt.MmapReserved("Code"), report[RegionCategory.CodeCache].VirtualBytes);
            if (report[RegionCategory.Gc].VirtualBytes == nmt.MmapReserved("GC"))
            {
                Assert.Equal(0, report[RegionCategory.Unknown].ResidentBytes!.Value / (1 << 20));
                return;
            }

            misses.Add($"gc {report[RegionCategory.Gc].VirtualBytes} against NMT's {nmt.MmapReserved("GC")}");
            offBy.Add(Math.Abs(report[RegionCategory.Gc].VirtualBytes - nmt.MmapReserved("GC")));
        }

        // No exact match in three (once all three 256 KiB over, JDK 17 Shenandoah 2g, in a full run): still within the
        // stated limit of the sizes-only match, or a failure.
        Console.Error.WriteLine($"GcTableTests {collector} {xmx}: no exact match in three JVMs: {string.Join("; ", misses)}");
        Assert.True(offBy.Max() <= 3L << 20, $"no exact match in three JVMs, and beyond the known 256 KiB-2.7 MiB: {string.Join("; ", misses)}");
    }

    /// <summary>
    /// The report once the layout has settled: right after READY the collector may still be committing or
    /// uncommitting (after the workload's last System.gc()), and a table caught mid-change can merge with a
    /// neighbour for that moment. Two reads 500 ms apart with the same gc and metaspace bytes, the tables sized from
    /// hsperfdata in both (a full run once had two JDK 17 JVMs' reads fall back to layout at the same moment: the
    /// cause not found, so a read without it does not count as settled), at most ten.
    /// </summary>
    private static MemoryReport Settled(int pid)
    {
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport previous = inspector.Inspect(pid).Report;
        for (int i = 0; i < 10; i++)
        {
            Thread.Sleep(500);
            MemoryReport next = inspector.Inspect(pid).Report;
            if (next[RegionCategory.Gc].VirtualBytes == previous[RegionCategory.Gc].VirtualBytes
                && next[RegionCategory.Metaspace].VirtualBytes == previous[RegionCategory.Metaspace].VirtualBytes
                && next.Methods[(int)RegionCategory.Gc] == DecisionMethod.HsPerfData && previous.Methods[(int)RegionCategory.Gc] == DecisionMethod.HsPerfData)
            {
                return next;
            }

            previous = next;
        }

        return previous;
    }

    /// <summary>
    /// G1 with -Xmx4g: its mark bitmaps (heap / 64) are 64 MiB, a metaspace node's size; the one merged with the mark
    /// stack is not found, and the node must not be taken for it (the JVM's metaspace reservation keeps it a node).
    /// </summary>
    [Theory]
    [InlineData(RepoPaths.Jdk17)]
    [InlineData(RepoPaths.Jdk25)]
    public void A_metaspace_node_is_not_taken_for_a_bitmap_of_its_size(string jdk)
    {
        using JavaWorkload jvm = JavaWorkload.Start(jdk, ["-XX:+UseG1GC", "-Xmx4g"], 10, ["--heap-churn=64"]);
        MemoryReport report = Settled(jvm.Pid);
        NmtSummary nmt = jvm.NativeMemorySummary();

        Assert.Equal(nmt.MetaspaceReserved + nmt.ClassSpaceReserved, report[RegionCategory.Metaspace].VirtualBytes);
        // Whole tables (8 MiB card-sized ones, 64 MiB bitmaps), never more than NMT's GC reservations. Which of them
        // are found depends on what merged with what: run beside the other live tests, JDK 25's were all merged once.
        Assert.Equal(0, report[RegionCategory.Gc].VirtualBytes % (8L << 20));
        Assert.InRange(report[RegionCategory.Gc].VirtualBytes, 0, nmt.MmapReserved("GC"));
    }
}
