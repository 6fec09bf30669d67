using MapsExporter.Core.Classifying;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>A native (non-Java) program with a known number of arenas, against glibc's own count.</summary>
public sealed class NativeArenaTests
{
    [Theory]
    [InlineData(7, null, 7)]
    [InlineData(20, null, 15)] // 8 x 2 cores = 16 arenas, the main one included
    [InlineData(3, 2, 1)]
    [InlineData(5, 1, 0)]
    public void Arena_count_equals_glibc_malloc_stats(int threads, int? arenaMax, int expectedArenas)
    {
        int limit = 8 * Environment.ProcessorCount;
        if (arenaMax is null && threads + 1 > limit)
        {
            expectedArenas = limit - 1;
        }

        using NativeArenaProgram program = NativeArenaProgram.Start(threads, arenaMax);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport report = inspector.Inspect(program.Pid, exact: false).Report;
        int glibc = program.GlibcArenaCount();

        Assert.False(report.IsJvm);
        Assert.Equal("arenas", report.App);
        Assert.Equal(glibc - 1, report.LibcArenas);
        Assert.Equal(expectedArenas, report.LibcArenas);
        Assert.Equal(threads + 1, report.Threads);
        Assert.Equal(report.Threads, report.ThreadStacks);
        Assert.Equal(0, report[RegionCategory.JavaHeap].Regions);
        Assert.Equal(0, report[RegionCategory.CodeCache].Regions);
        Assert.Equal(0, report[RegionCategory.Metaspace].Regions);
    }
}
