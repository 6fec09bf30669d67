using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// glibc is the oracle: tests/workloads/freelists.c builds known free lists (fastbins, small and large bins, unsorted,
/// a trimmable main top, mmapped chunks) in its arenas, stops, and prints malloc_stats() and malloc_info() itself.
/// Read from outside, every arena's figures must equal glibc's exactly, and the releasable bytes must be what a real
/// malloc_trim(0), called through gdb, takes off the Rss.
/// </summary>
public sealed class MallocStateOracleTests
{
    private const long Page = 4096;

    [Theory]
    [InlineData(4)] // main arena found through the arena ring
    [InlineData(0)] // no thread arena: main arena found in libc's data
    public void Every_arena_equals_malloc_stats_and_malloc_info_and_releasable_is_what_malloc_trim_returns(int threads)
    {
        using NativeArenaProgram program = NativeArenaProgram.Start(threads, workload: "freelists");
        string glibc = program.Stats("</malloc>");
        // The default 200 ms cap on a walk ends this one (thousands of chunks) on a loaded machine: time is not tested here.
        using var inspector = new ProcessInspector(new ProcFs()) { MallocLimits = MallocReadLimits.Default with { MaxDuration = TimeSpan.FromSeconds(30) } };
        MemoryReport report = inspector.Inspect(program.Pid, exact: true).Report;

        List<(long System, long InUse)> stats = MallocStats.Arenas(glibc);
        var (free, mmapCount, mmapBytes) = MallocStats.MallocInfo(glibc);
        Assert.Equal(threads + 1, stats.Count);
        Assert.DoesNotContain(DecisionMethod.MallocState, report.Fallbacks);
        Assert.Equal(stats.Count, report.Arenas.Count);
        Assert.True(report.Arenas[0].Main);
        Assert.All(report.Arenas.Skip(1), a => Assert.False(a.Main));
        for (int i = 0; i < stats.Count; i++)
        {
            ArenaInfo arena = report.Arenas[i];
            Assert.Equal(stats[i].System, arena.SystemBytes);
            Assert.Equal(stats[i].InUse, arena.InUseBytes);
            Assert.Equal(free[i], arena.FreeBytes);
        }

        var malloc = report.Malloc!;
        Assert.Equal("glibc", malloc.Allocator);
        Assert.Equal(stats.Sum(s => s.System), malloc.SystemBytes);
        Assert.Equal(stats.Sum(s => s.InUse), malloc.InUseBytes);
        Assert.Equal(free.Sum(), malloc.FreeBytes);
        Assert.Equal(mmapCount, malloc.MmappedChunks);
        Assert.Equal(mmapBytes, malloc.MmappedBytes);
        Assert.Equal(3 * (threads + 1), mmapCount);

        // Most of the freed blocks' pages are whole and resident: the prediction must be large, not trivially met.
        long releasable = malloc.ReleasableBytes!.Value;
        Assert.True(releasable > (threads + 1) * 20L * 1024 * 1024, $"releasable {releasable}");
        long before = Rss(program.Pid);
        var (code, stdout, stderr) = ToolRunner.Run("gdb", ["-p", program.Pid.ToString(CultureInfo.InvariantCulture), "-batch", "-ex", "call (int)malloc_trim(0)"], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, stdout + stderr);
        long returned = before - Rss(program.Pid);
        Assert.True(Math.Abs(returned - releasable) <= Page, $"malloc_trim(0) returned {returned} B, predicted {releasable} B");
    }

    [Fact]
    public void Scans_between_smaps_reads_publish_the_malloc_figures_of_the_last_one_and_read_none()
    {
        using NativeArenaProgram program = NativeArenaProgram.Start(2, workload: "freelists");
        // An hour's smaps interval: the second scan, right after, is between two smaps reads.
        using var scanner = new ProcessScanner(new ProcFs(), new ProcessSelector(includeApp: "^$", includeNative: "^freelists$"), useSmaps: true, TimeProvider.System, new ScanCostOptions { SmapsInterval = TimeSpan.FromHours(1) });
        ProcessSample first = Assert.Single(scanner.Scan().Processes, p => p.Report.Pid == program.Pid);
        ProcessSample between = Assert.Single(scanner.Scan().Processes, p => p.Report.Pid == program.Pid);

        Assert.Equal(ScanMode.Smaps, first.Mode);
        Assert.Equal(ScanMode.MapsCached, between.Mode);
        Assert.Equal(3, first.Report.Arenas.Count(a => a.FreeBytes is not null));
        Assert.Same(first.Report.Malloc, between.Report.Malloc);
        Assert.Same(first.Report.Arenas, between.Report.Arenas);
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4")]
    public void Another_allocator_preloaded_leaves_glibcs_arenas_unused_and_nothing_is_counted_as_a_fallback(string allocator)
    {
        // freelists calls glibc's mallopt (the preloaded allocators have none), which sets the main arena up empty.
        using NativeArenaProgram program = NativeArenaProgram.Start(2, workload: "freelists", preload: allocator);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport report = inspector.Inspect(program.Pid, exact: true).Report;

        // Mapped under the name the link points to (libtcmalloc_minimal.so.4.5.10).
        string library = Path.GetFileName(allocator)[..(Path.GetFileName(allocator).IndexOf(".so", StringComparison.Ordinal) + 3)];
        Assert.Contains(File.ReadLines($"/proc/{program.Pid}/maps"), l => l.Contains("/" + library, StringComparison.Ordinal));
        Assert.DoesNotContain(DecisionMethod.MallocState, report.Fallbacks);
        Assert.Empty(report.Arenas);
        Assert.NotNull(report.Malloc);
        Assert.Null(report.Malloc.Allocator);
        Assert.Null(report.Malloc.SystemBytes);
        Assert.Equal(0, report.Malloc.MmappedChunks);
    }

    /// <summary>
    /// Resident bytes of the mappings malloc_trim can give back from ([heap] and anonymous ones: the arenas' heaps),
    /// not the whole Rss: the call through gdb grows the stack for its frame and maps libc's malloc_trim code into the
    /// process (file pages, 16 at a time by fault-around: the whole Rss was once 17 pages short).
    /// </summary>
    private static long Rss(int pid)
    {
        long kb = 0;
        bool counted = false;
        foreach (string line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            if (IsHeader(line))
            {
                string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                counted = fields.Length < 6 || fields[5].Trim() == "[heap]";
            }
            else if (counted && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                kb += long.Parse(line["Rss:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
            }
        }

        return kb * 1024;
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    // A mapping's first line: "start-end perms offset dev inode [path]" (its fields' lines are "Name: value").
    private static bool IsHeader(string line)
    {
        int dash = line.IndexOf('-', StringComparison.Ordinal);
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        return dash > 0 && space > dash && line.AsSpan(0, dash).IndexOfAnyExcept(HexDigits) < 0;
    }
}
