using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Reporting;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// The allocator named from maps captured from live processes (tests/Fixtures/allocators, each built against the malloc
/// its name says; tests/Fixtures/capture.sh), where glibc's main arena cannot be read: a dump says only what is mapped.
/// </summary>
public sealed class AllocatorDetectorTests
{
    [Theory]
    [InlineData("alloc-glibc", "glibc")]
    [InlineData("alloc-jemalloc", "jemalloc")]
    [InlineData("alloc-tcmalloc", "tcmalloc")]
    [InlineData("alloc-mimalloc", "mimalloc")]
    [InlineData("alloc-musl", "musl")]
    [InlineData("alloc-musl-static", "other")]
    [InlineData("alloc-jdk17-g1-xmx256m-jemalloc", "jemalloc")]
    // Linked in: only libc.so.6 is mapped, and the main arena (never set up) is what tells it; a dump has no memory.
    [InlineData("alloc-jemalloc-static", "glibc")]
    public void A_dump_names_the_malloc_it_maps(string fixture, string expected)
    {
        Assert.Equal(expected, Report(fixture, "maps").Allocator.Id());
        Assert.Equal(expected, Report(fixture, "smaps").Allocator.Id());
    }

    [Fact]
    public void Every_captured_jvm_without_a_preloaded_malloc_is_glibc()
    {
        string[] jvms = [.. Directory.GetDirectories(RepoPaths.Fixtures, "jdk*").Select(Path.GetFileName)!];
        Assert.NotEmpty(jvms);
        Assert.All(jvms, fixture => Assert.Equal(NativeAllocator.Glibc, Report(fixture, "maps").Allocator));
    }

    [Theory]
    [InlineData("alloc-glibc", false, NativeAllocator.Other)] // libc.so.6 mapped, main arena never set up: a malloc linked in
    [InlineData("alloc-glibc", true, NativeAllocator.Glibc)]
    [InlineData("alloc-jemalloc", true, NativeAllocator.Glibc)] // mapped but glibc's malloc in use: dlopened, not interposed
    [InlineData("alloc-jemalloc", false, NativeAllocator.Jemalloc)]
    [InlineData("alloc-tcmalloc", false, NativeAllocator.Tcmalloc)]
    [InlineData("alloc-musl", null, NativeAllocator.Musl)]
    [InlineData("alloc-musl-static", false, NativeAllocator.Other)]
    public void The_main_arena_decides_between_a_mapped_malloc_and_glibc(string fixture, bool? mainArenaInitialised, NativeAllocator expected)
    {
        var table = new MappingTable();
        MapsParser.Parse(File.ReadAllBytes(RepoPaths.Fixture(Path.Combine("allocators", fixture), "maps")), table, fixture);
        Assert.Equal(expected, AllocatorDetector.Detect(table, mainArenaInitialised));
    }

    [Theory]
    [InlineData("alloc-tcmalloc")]
    [InlineData("alloc-musl")]
    public void A_named_mallocs_brk_heap_is_native_allocator_not_the_main_arena(string fixture)
    {
        MemoryReport report = Report(fixture, "smaps");
        int heapLines = File.ReadLines(RepoPaths.Fixture(Path.Combine("allocators", fixture), "maps")).Count(line => line.EndsWith(" [heap]", StringComparison.Ordinal));
        Assert.True(heapLines > 0);
        Assert.Equal(0, report[RegionCategory.MainArena].Regions);
        Assert.Equal(heapLines, report[RegionCategory.NativeAllocator].Regions);
        Assert.True(report[RegionCategory.NativeAllocator].ResidentBytes > 0);
        Assert.True(Report("alloc-glibc", "smaps")[RegionCategory.MainArena].ResidentBytes > 1024 * 1024);
    }

    private static MemoryReport Report(string fixture, string file)
    {
        string directory = fixture.StartsWith("alloc-", StringComparison.Ordinal) ? Path.Combine("allocators", fixture) : fixture;
        return DumpReader.Read(RepoPaths.Fixture(directory, file), new MappingTable(), new Classification());
    }
}
