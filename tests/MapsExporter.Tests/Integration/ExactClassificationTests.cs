using System.Globalization;
using System.Text.RegularExpressions;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// The exact methods on their own: malloc's mmaps from chunk headers, a native program's arenas from heap
/// headers, the fallback when they are not available, and JDK 25's System.map region by region. The matrix of
/// JVMs against NMT and malloc_stats is in <see cref="LiveJvmReportTests"/>.
/// </summary>
public sealed partial class ExactClassificationTests
{
    [Theory]
    [InlineData(RepoPaths.Jdk17)]
    [InlineData(RepoPaths.Jdk25)]
    public void Direct_byte_buffers_are_malloc_mmaps_found_from_their_chunk_headers(string jdk)
    {
        // NMT counts direct buffers under "Other" (malloc); each 1 MiB buffer is an mmap of its own, and one next to
        // a HotSpot reservation merges with it: the exact read splits it off, so NMT's figures still hold exactly.
        using JavaWorkload jvm = JavaWorkload.Start(jdk, ["-Xmx256m"], 10, ["--native-churn", "--direct-buffers=16"]);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport report = inspector.Inspect(jvm.Pid).Report;
        NmtSummary nmt = jvm.NativeMemorySummary();
        Assert.Equal(DecisionMethod.ChunkHeader, report.Methods[(int)RegionCategory.MallocMmap]);
        Assert.True(report.MallocMmapChunks >= 16, $"{report.MallocMmapChunks} chunks");
        Assert.True(report[RegionCategory.MallocMmap].VirtualBytes >= 16L << 20, $"{report[RegionCategory.MallocMmap].VirtualBytes} bytes");
        // Split VMAs share their Rss as the page table says: the touched buffers are resident (to the KiB smaps counts in).
        Assert.True(report[RegionCategory.MallocMmap].ResidentBytes >= (16L << 20) - (64 << 10), $"{report[RegionCategory.MallocMmap].ResidentBytes} resident");
        Assert.True(report[RegionCategory.MallocMmap].ResidentBytes <= nmt.Reserved("Other") + (4L << 20));
        Assert.True(nmt.Reserved("Other") >= 16L << 20, $"NMT Other {nmt.Reserved("Other")}");
        Assert.Equal(nmt.Reserved("Java Heap"), report[RegionCategory.JavaHeap].VirtualBytes);
        Assert.Equal(nmt.MetaspaceReserved + nmt.ClassSpaceReserved, report[RegionCategory.Metaspace].VirtualBytes);
        Assert.Equal(nmt.MmapReserved("Code"), report[RegionCategory.CodeCache].VirtualBytes);
        double unknown = (double)report[RegionCategory.Unknown].ResidentBytes!.Value / report.Total.ResidentBytes!.Value;
        Assert.InRange(unknown, 0, 0.05);
    }

    [Fact]
    public void Native_program_arenas_from_headers_equal_malloc_stats()
    {
        using NativeArenaProgram program = NativeArenaProgram.Start(9);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport report = inspector.Inspect(program.Pid).Report;
        Assert.Equal(DecisionMethod.HeapInfo, report.Methods[(int)RegionCategory.LibcArena]);
        Assert.Equal(program.GlibcArenaCount() - 1, report.LibcArenas);
        Assert.Equal(9, report.LibcArenas);
        Assert.Equal(10, report.ThreadStacks);
        Assert.Null(report.Jvm);
        Assert.DoesNotContain(DecisionMethod.HsPerfData, report.Fallbacks);
    }

    [Fact]
    public void Without_the_process_memory_and_stack_pointers_layout_decides_and_says_so()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx256m"], 10);
        using var inspector = new ProcessInspector(new ProcFs());
        MemoryReport exact = inspector.Inspect(jvm.Pid).Report;

        // The same live mappings (the idle JVM's smaps read again), as a process without CAP_SYS_PTRACE sees them: no
        // memory, no stack pointers.
        var table = new MappingTable();
        SmapsParser.Parse(File.ReadAllBytes($"/proc/{jvm.Pid}/smaps"), table, "smaps");
        var classification = new Classification();
        var threads = new List<ThreadSample>();
        for (int i = 0; i < exact.Threads; i++)
        {
            threads.Add(new ThreadSample(i + 1, "t", 0));
        }

        RegionClassifier.Classify(table, classification, new ExactSources { Memory = null, Threads = threads, PerfData = null, IsJvm = true });
        Assert.Equal([DecisionMethod.HeapInfo, DecisionMethod.ChunkHeader, DecisionMethod.StackPointer, DecisionMethod.HsPerfData], classification.Fallbacks.Order());
        Assert.Equal(DecisionMethod.Layout, classification.MethodOf(RegionCategory.LibcArena));
        Assert.Equal(exact.LibcArenas, classification.LibcArenas);
        Assert.Equal(exact.ThreadStacks, classification.ThreadStacks);
    }

    [Fact]
    public void Jdk25_categories_agree_with_system_map_region_by_region()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk25, ["-Xmx512m"], 20, ["--native-churn"]);
        using var inspector = new ProcessInspector(new ProcFs());
        // System.map before and after our read, and only its lines in both: a thread the JVM starts or ends around the
        // read (a dynamic compiler thread, one on a stack glibc kept from an exited thread) is not a classifier error.
        string before = SystemMap(jvm.Pid);
        InspectionResult result = inspector.Inspect(jvm.Pid, keepRegions: true);
        (MemoryReport report, ClassifiedRegions regions) = (result.Report, result.Regions!);
        string after = SystemMap(jvm.Pid);
        var stableLines = new HashSet<string>(SystemMapLine().Matches(before).Select(StableKey), StringComparer.Ordinal);

        var expected = new Dictionary<string, RegionCategory>
        {
            ["JAVAHEAP"] = RegionCategory.JavaHeap, ["CLASS"] = RegionCategory.Metaspace, ["META"] = RegionCategory.Metaspace,
            ["CDS"] = RegionCategory.CdsArchive, ["STACK"] = RegionCategory.ThreadStack, ["CODE"] = RegionCategory.CodeCache,
        };
        ReadOnlySpan<Mapping> items = regions.Items;
        int compared = 0;
        var mismatches = new List<string>();
        foreach (Match m in SystemMapLine().Matches(after))
        {
            if (!stableLines.Contains(StableKey(m)))
            {
                continue;
            }

            ulong start = Convert.ToUInt64(m.Groups["start"].Value, 16);
            int index = Classification.IndexOf(items, start);
            string tag = m.Groups["tag"].Value;
            // jcmd's Attach Listener was born after our read; a label shared by two tags ("CODE,GC") is a merged VMA.
            if (index < 0 || items[index].Start != start || tag.Contains(',', StringComparison.Ordinal) || !expected.TryGetValue(tag, out RegionCategory want))
            {
                continue;
            }

            // One VMA we split into pieces (a segment map's committed part split off a library's bss, a malloc chunk,
            // a collector's table that merged with it): System.map's one label is the HotSpot reservation's, so that
            // piece must carry it (a segment map's is the last, right before its PROT_NONE rest); the others are not
            // HotSpot's to label.
            ulong end = Convert.ToUInt64(m.Groups["end"].Value, 16);
            if (items[index].End != end)
            {
                int last = Classification.IndexOf(items, end - 1);
                bool found = false;
                var pieces = new List<string>();
                for (int piece = index; piece <= last; piece++)
                {
                    found |= regions.CategoryOf(piece) == want && (tag != "CODE" || piece == last);
                    pieces.Add($"{items[piece].Start:x}-{items[piece].End:x} {regions.CategoryOf(piece).Id()}");
                }

                compared++;
                if (!found)
                {
                    mismatches.Add($"{m.Value.Trim()} -> split into {pieces.Count} pieces, none {want.Id()} where it belongs: {string.Join(", ", pieces)}");
                }

                continue;
            }

            // A code heap's segment map (small, not executable) can merge with a malloc chunk beside it, which
            // System.map still labels CODE; then neither its part nor its PROT_NONE rest is found: the stated limit.
            if (tag == "CODE" && (items[index].Permissions & Permissions.Execute) == 0 && items[index].Size < 4 << 20
                && regions.CategoryOf(index) == RegionCategory.Unknown)
            {
                continue;
            }

            compared++;
            if (regions.CategoryOf(index) != want)
            {
                mismatches.Add($"{m.Value.Trim()} -> {regions.CategoryOf(index).Id()} ({items[index].Permissions}, {items[index].Size} bytes, {report.Threads} threads, {report.ThreadStacks} stacks)");
            }
        }

        Assert.True(compared > 60, $"only {compared} compared");
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
        Assert.Equal(report.Threads, report.ThreadStacks);
    }

    // Resident sizes move between the two reads; the range, protection and tag say whether it is the same region.
    private static string StableKey(Match m) => $"{m.Groups["start"].Value}-{m.Groups["end"].Value} {m.Groups["prot"].Value} {m.Groups["tag"].Value}";

    private static string SystemMap(int pid)
    {
        var (code, systemMap, stderr) = ToolRunner.Run(Path.Combine(RepoPaths.Jdk25, "bin", "jcmd"), [pid.ToString(CultureInfo.InvariantCulture), "System.map"]);
        Assert.True(code == 0, stderr);
        return systemMap;
    }

    [GeneratedRegex(@"^0x0*(?<start>[0-9a-f]+)-0x(?<end>[0-9a-f]+)\s+\d+ (?<prot>\S{4})\s.*?\s(?<tag>[A-Z][A-Z,]*[A-Z])\S*\s", RegexOptions.Multiline)]
    private static partial Regex SystemMapLine();
}
