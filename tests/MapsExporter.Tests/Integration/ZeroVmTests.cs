using MapsExporter.Core.Classifying;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// Debian's Zero VM (openjdk-17-jre-zero, <c>java -zero</c>: an interpreter, no JIT), extracted beside the system's
/// JDK by scripts/jdk17-zero.sh, against its NMT (jcmd from the system's JDK 17). Zero has no CDS archive, so its
/// class space sits right above the heap rather than behind an archive, and its code heap's segment map has a
/// byte per 64-byte segment (CodeCacheSegmentSize without C1 and C2).
/// </summary>
public sealed class ZeroVmTests
{
    [Theory]
    [InlineData("-Xmx256m")]
    [InlineData("-Xmx1g")]
    public void Class_space_code_cache_and_collector_tables_match_native_memory_tracking(string xmx)
    {
        Assert.True(File.Exists(Path.Combine(RepoPaths.Jdk17Zero, "lib", "zero", "libjvm.so")), $"no Zero VM in {RepoPaths.Jdk17Zero}: run scripts/jdk17-zero.sh");
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17Zero, ["-zero", xmx], 10, toolsJdk: RepoPaths.Jdk17);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport report = inspector.Inspect(jvm.Pid).Report;
        NmtSummary nmt = jvm.NativeMemorySummary();

        Assert.Contains("/lib/zero/libjvm.so", File.ReadAllText($"/proc/{jvm.Pid}/maps"), StringComparison.Ordinal);
        Assert.Equal(1L << 30, nmt.ClassSpaceReserved);
        Assert.Equal(nmt.MetaspaceReserved + nmt.ClassSpaceReserved, report[RegionCategory.Metaspace].VirtualBytes);
        Assert.Equal(nmt.MmapReserved("Code"), report[RegionCategory.CodeCache].VirtualBytes);
        Assert.Equal(nmt.Reserved("Java Heap"), report[RegionCategory.JavaHeap].VirtualBytes);
        // Zero runs Serial: its tables (with JDK 17's guard card, whose page merges with the segment map's) too.
        Assert.Equal(nmt.MmapReserved("GC"), report[RegionCategory.Gc].VirtualBytes);
        Assert.False(nmt.Has("Shared class space"));
        Assert.Equal(0, report[RegionCategory.CdsArchive].VirtualBytes);
    }
}
