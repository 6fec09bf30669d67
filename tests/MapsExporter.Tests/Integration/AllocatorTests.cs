using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;
using Xunit.Abstractions;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// Each malloc named on live processes built against it (the oracle is the build: what the program was linked with or
/// preloaded), and jemalloc's memory against jemalloc's own malloc_stats_print(). Tolerances: none for the virtual
/// size; see <see cref="AssertMatchesJemalloc"/>.
/// </summary>
public sealed class AllocatorTests(ITestOutputHelper output)
{
    private const string LibJemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    private const string LibTcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";

    [Theory]
    [InlineData("glibc", null, "glibc")]
    [InlineData("jemalloc", null, "jemalloc")]
    [InlineData("glibc", LibJemalloc, "jemalloc")]
    [InlineData("tcmalloc", null, "tcmalloc")]
    [InlineData("glibc", LibTcmalloc, "tcmalloc")]
    [InlineData("mimalloc", null, "mimalloc")]
    [InlineData("musl", null, "musl")]
    // Linked into the program: libc.so.6 is mapped, but glibc's main arena is never set up.
    [InlineData("jemalloc-static", null, "other")]
    // Nothing mapped but the program: whose malloc it is cannot be told from outside.
    [InlineData("musl-static", null, "other")]
    public void Each_malloc_is_named(string variant, string? preload, string expected)
    {
        using AllocatorProgram program = AllocatorProgram.Start(variant, preload is null ? null : new Dictionary<string, string> { ["LD_PRELOAD"] = preload });
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport report = inspector.Inspect(program.Pid).Report;

        Assert.Equal(expected, report.Allocator.Id());
        if (report.Allocator is NativeAllocator.Glibc)
        {
            Assert.Equal(0, report[RegionCategory.NativeAllocator].Regions);
            Assert.True(report[RegionCategory.MainArena].ResidentBytes > 0);
        }
        else if (report.Allocator is not NativeAllocator.Other)
        {
            // Not glibc's: a brk heap there is the named malloc's (tcmalloc and musl grow it).
            Assert.Equal(0, report[RegionCategory.MainArena].Regions);
        }
    }

    [Fact]
    public void Jemalloc_memory_is_native_allocator_and_equals_its_mapped_and_retained()
    {
        using AllocatorProgram program = AllocatorProgram.Start("jemalloc");
        AssertMatchesJemalloc(program.Pid, () => JemallocStats.Read(program.Pid, program.StderrPath), out MemoryReport report);

        // Every allocated byte was written (memset), so it is resident: jemalloc's allocated bytes are a lower bound.
        JemallocStats stats = JemallocStats.Read(program.Pid, program.StderrPath);
        Assert.InRange(report[RegionCategory.NativeAllocator].ResidentBytes!.Value, stats.Allocated, stats.Resident);
        Assert.True(report[RegionCategory.Unknown].ResidentBytes < report.Total.ResidentBytes / 100, "unknown under 1% of Rss");

        // A scan's later inspections start from the root found before (the process's state keeps it) and find the same.
        using var files = new ProcessFiles(new ProcFs());
        using var inspector = new ProcessInspector(files);
        var state = new ProcessState(program.Pid, files.ReadStat(program.Pid).StartTicks);
        MemoryReport first = inspector.Inspect(program.Pid, state: state).Report;
        Assert.NotNull(state.JemallocRoot.Address);
        MemoryReport again = inspector.Inspect(program.Pid, state: state).Report;
        Assert.Equal(first[RegionCategory.NativeAllocator], again[RegionCategory.NativeAllocator]);
        Assert.Equal(report[RegionCategory.NativeAllocator].VirtualBytes, again[RegionCategory.NativeAllocator].VirtualBytes);
    }

    [Theory]
    [InlineData(RepoPaths.Jdk17)]
    [InlineData(RepoPaths.Jdk25)]
    public void Jvm_with_jemalloc_preloaded_has_its_memory_as_native_allocator(string jdk)
    {
        using JavaWorkload jvm = JavaWorkload.Start(jdk, ["-XX:+UseG1GC", "-Xmx256m"], 20, ["--native-churn", "--direct-buffers=8"],
            new Dictionary<string, string> { ["LD_PRELOAD"] = LibJemalloc });
        using var inspector = new ProcessInspector(new ProcFs());
        // Layout alone (no memory read): what the report said before jemalloc's memory had a category.
        MemoryReport layoutOnly = inspector.Inspect(jvm.Pid, exact: false).Report;
        AssertMatchesJemalloc(jvm.Pid, () => JemallocStats.Read(jvm.Pid, jvm.StderrPath), out MemoryReport report);

        Assert.Equal(NativeAllocator.Jemalloc, report.Allocator);
        Assert.Equal(NativeAllocator.Jemalloc, layoutOnly.Allocator);
        double unknownBefore = Share(layoutOnly, RegionCategory.Unknown), unknownAfter = Share(report, RegionCategory.Unknown);
        output.WriteLine($"unknown share of Rss: layout only {unknownBefore:P1}, exact {unknownAfter:P1}; native_allocator {Share(report, RegionCategory.NativeAllocator):P1}");
        Assert.True(unknownAfter < 0.01, $"unknown {unknownAfter:P1} of Rss");
        Assert.True(unknownBefore > unknownAfter + 0.02, $"unknown {unknownBefore:P1} by layout, {unknownAfter:P1} exact");
        Assert.True(report[RegionCategory.NativeAllocator].ResidentBytes <= JemallocStats.Read(jvm.Pid, jvm.StderrPath).Resident);
    }

    private static double Share(MemoryReport report, RegionCategory category) =>
        (double)report[category].ResidentBytes!.Value / report.Total.ResidentBytes!.Value;

    /// <summary>
    /// native_allocator's virtual size against jemalloc's mapped + retained, read between two inspections. jemalloc on
    /// 64-bit Linux retains what it maps (opt.retain) and never unmaps it, so mapped + retained can only grow: the figure
    /// taken in between must lie between the two readings, exactly (an idle process reads the same three times).
    /// </summary>
    private void AssertMatchesJemalloc(int pid, Func<JemallocStats> stats, out MemoryReport report)
    {
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport before = inspector.Inspect(pid).Report;
        JemallocStats own = stats();
        report = inspector.Inspect(pid).Report;
        long jemalloc = own.Mapped + own.Retained;
        output.WriteLine($"native_allocator virtual {before[RegionCategory.NativeAllocator].VirtualBytes} / {report[RegionCategory.NativeAllocator].VirtualBytes}, "
            + $"resident {report[RegionCategory.NativeAllocator].ResidentBytes}; jemalloc mapped {own.Mapped} + retained {own.Retained} = {jemalloc}, "
            + $"resident {own.Resident}, allocated {own.Allocated}, metadata {own.Metadata}; process Rss {report.Total.ResidentBytes}");
        Assert.Equal(DecisionMethod.JemallocExtents, report.Methods[(int)RegionCategory.NativeAllocator]);
        Assert.InRange(jemalloc, before[RegionCategory.NativeAllocator].VirtualBytes, report[RegionCategory.NativeAllocator].VirtualBytes);
    }
}
