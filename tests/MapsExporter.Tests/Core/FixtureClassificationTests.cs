using System.Text.RegularExpressions;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// The classifier on every captured fixture, from smaps and from maps alone, against the oracles captured
/// with it: NMT's reserved sizes, glibc's malloc_stats arena count and the /proc/PID/task count.
/// Tolerances: none.
/// </summary>
public sealed partial class FixtureClassificationTests
{
    private const long MiB = 1024 * 1024;

    public static TheoryData<string, string> Fixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (string fixture in CapturedFixtures())
        {
            data.Add(fixture, "smaps");
            data.Add(fixture, "maps");
        }

        return data;
    }

    public static TheoryData<string> FixtureNames() => [.. CapturedFixtures()];

    /// <summary>Each capture of one process (capture.sh records its command.txt); procfs/ is a whole tree, for the golden /metrics test.</summary>
    private static IEnumerable<string> CapturedFixtures() =>
        Directory.GetDirectories(RepoPaths.Fixtures).Where(d => File.Exists(Path.Combine(d, "command.txt"))).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Arena_count_equals_glibc_malloc_stats_minus_the_main_arena(string fixture, string file)
    {
        MemoryReport report = Report(fixture, file);
        int glibcArenas = MallocStats.CountArenas(File.ReadAllText(RepoPaths.Fixture(fixture, "malloc_stats.txt")));
        Assert.Equal(glibcArenas - 1, report.LibcArenas);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_thread_has_one_stack(string fixture, string file)
    {
        MemoryReport report = Report(fixture, file);
        int threads = int.Parse(File.ReadAllText(RepoPaths.Fixture(fixture, "threads")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(threads, report.ThreadStacks);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Jvm_reservations_equal_native_memory_tracking(string fixture, string file)
    {
        if (!fixture.StartsWith("jdk", StringComparison.Ordinal))
        {
            return;
        }

        MemoryReport report = Report(fixture, file);
        NmtSummary nmt = NmtSummary.Parse(File.ReadAllText(RepoPaths.Fixture(fixture, "nmt.txt")));
        Assert.True(report.IsJvm);
        Assert.Equal(nmt.Reserved("Java Heap"), report[RegionCategory.JavaHeap].VirtualBytes);
        Assert.Equal(nmt.MetaspaceReserved + nmt.ClassSpaceReserved, report[RegionCategory.Metaspace].VirtualBytes);
        Assert.Equal(nmt.Reserved("Shared class space"), report[RegionCategory.CdsArchive].VirtualBytes);
        // NMT's Code: the code heaps (ReservedCodeCacheSize, 240 MiB) and their segment maps (one byte per 128).
        Assert.Equal(nmt.MmapReserved("Code"), report[RegionCategory.CodeCache].VirtualBytes);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Unknown_resident_memory_is_a_small_part(string fixture, string file)
    {
        MemoryReport report = Report(fixture, file);
        if (!report.ResidentKnown)
        {
            Assert.Null(report[RegionCategory.Unknown].ResidentBytes);
            return;
        }

        // G1's tables and bitmaps and glibc's mmapped chunks are not classified from text; they stay well under 5%.
        Assert.InRange((double)report[RegionCategory.Unknown].ResidentBytes!.Value / report.Total.ResidentBytes!.Value, 0, 0.05);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Totals_equal_the_sum_of_smaps_size_and_rss_lines(string fixture, string file)
    {
        MemoryReport report = Report(fixture, file);
        string text = File.ReadAllText(RepoPaths.Fixture(fixture, file));
        // Regions are VMAs, plus one for each VMA split where a code heap's segment map had merged with a neighbour.
        Assert.Equal(Regex.Count(text, @"^[0-9a-f]+-[0-9a-f]+ ", RegexOptions.Multiline), report.Mappings);
        Assert.InRange(report.Total.Regions, report.Mappings, report.Mappings + 3);
        if (file == "smaps")
        {
            Assert.Equal(SumField(text, "Size"), report.Total.VirtualBytes);
            // ZGC on JDK 17 maps its heap three times; the extra views' resident pages are counted once.
            long rss = SumField(text, "Rss");
            if (fixture == "jdk17-zgc-xmx512m-t10")
            {
                Assert.True(report.Total.ResidentBytes < rss);
            }
            else
            {
                Assert.Equal(rss, report.Total.ResidentBytes);
            }

            Assert.Equal(SumField(text, "Pss"), report.Total.ProportionalBytes);
            Assert.Equal(SumField(text, "Swap"), report.Total.SwapBytes);
        }
        else
        {
            Assert.Null(report.Total.ResidentBytes);
            Assert.Null(report.Total.ProportionalBytes);
            Assert.Null(report.Total.SwapBytes);
        }

        CategoryTotals sum = CategoryTotals.Empty(report.ResidentKnown);
        foreach (CategoryTotals c in report.Categories)
        {
            sum = sum.Add(c);
        }

        Assert.Equal(sum, report.Total);
    }

    [Fact]
    public void Zgc_on_jdk17_counts_the_heap_pages_once_across_its_three_views()
    {
        MemoryReport report = Report("jdk17-zgc-xmx512m-t10", "smaps");
        CategoryTotals heap = report[RegionCategory.JavaHeap];
        string text = File.ReadAllText(RepoPaths.Fixture("jdk17-zgc-xmx512m-t10", "smaps"));
        // Pss already splits each page over its three mappings: the de-duplicated Rss equals the heap's Pss.
        Assert.Equal(heap.ProportionalBytes, heap.ResidentBytes);
        Assert.True(heap.ResidentBytes < SumFieldOfMemfdHeap(text));
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Maps_alone_give_every_region_the_category_smaps_gives(string fixture)
    {
        // A pagemap read classifies from maps (no VmFlags) and counts pages per region: a region that smaps' flags
        // place and maps' layout does not would move its pages between categories (issue 16). The fixture's maps and
        // smaps were read back to back and list the same VMAs.
        MappingTable fromSmaps = new(), fromMaps = new();
        Classification bySmaps = new(), byMaps = new();
        DumpReader.Read(RepoPaths.Fixture(fixture, "smaps"), fromSmaps, bySmaps);
        DumpReader.Read(RepoPaths.Fixture(fixture, "maps"), fromMaps, byMaps);
        Assert.Equal(fromSmaps.Count, fromMaps.Count);
        var differences = new List<string>();
        for (int i = 0; i < fromSmaps.Count; i++)
        {
            Assert.Equal((fromSmaps[i].Start, fromSmaps[i].End), (fromMaps[i].Start, fromMaps[i].End));
            if (bySmaps[i] != byMaps[i])
            {
                differences.Add($"{fromSmaps[i].Start:x}-{fromSmaps[i].End:x} {fromSmaps[i].Permissions}: smaps {bySmaps[i].Id()}, maps {byMaps[i].Id()}");
            }
        }

        Assert.True(differences.Count == 0, string.Join('\n', differences));
    }

    [Fact]
    public void Metaspace_node_at_a_64_MiB_boundary_is_not_an_arena()
    {
        // JDK 25 puts its metaspace node on a 64 MiB boundary with the arena shape (rw-p then ---p to 64 MiB).
        MappingTable table = new();
        SmapsParser.Parse(File.ReadAllBytes(RepoPaths.Fixture("jdk25-g1-xmx512m-t20", "smaps")), table, "smaps");
        var classification = new Classification();
        RegionClassifier.Classify(table, classification);
        string systemMap = File.ReadAllText(RepoPaths.Fixture("jdk25-g1-xmx512m-t20", "system_map.txt"));
        Match node = Regex.Match(systemMap, @"^0x0*([0-9a-f]+)-0x[0-9a-f]+\s+\d+ rw-p .*META", RegexOptions.Multiline);
        Assert.True(node.Success);
        ulong start = Convert.ToUInt64(node.Groups[1].Value, 16);
        Assert.Equal(0UL, start % (64 * 1024 * 1024));
        int index = IndexOf(table, start);
        Assert.Equal(RegionCategory.Metaspace, classification[index]);
    }

    [Fact]
    public void Jdk25_categories_agree_with_system_map_for_every_mapping_it_labels()
    {
        // jcmd System.map labels each mapping with its NMT category: the ground truth for the JVM's own regions.
        const string fixture = "jdk25-g1-xmx512m-t20";
        MappingTable table = new();
        SmapsParser.Parse(File.ReadAllBytes(RepoPaths.Fixture(fixture, "smaps")), table, "smaps");
        var classification = new Classification();
        RegionClassifier.Classify(table, classification);
        var expected = new Dictionary<string, RegionCategory>
        {
            ["JAVAHEAP"] = RegionCategory.JavaHeap, ["CLASS"] = RegionCategory.Metaspace, ["META"] = RegionCategory.Metaspace,
            ["CDS"] = RegionCategory.CdsArchive, ["STACK"] = RegionCategory.ThreadStack,
        };
        int compared = 0;
        foreach (Match m in Regex.Matches(File.ReadAllText(RepoPaths.Fixture(fixture, "system_map.txt")), @"^0x0*([0-9a-f]+)-0x[0-9a-f]+\s+\d+ \S{4}\s.*?\s(JAVAHEAP|CLASS|META|CDS|STACK|CODE)\S*\s", RegexOptions.Multiline))
        {
            int index = IndexOf(table, Convert.ToUInt64(m.Groups[1].Value, 16));
            if (index < 0)
            {
                continue; // the Attach Listener's stack, created by jcmd after the capture
            }

            string tag = m.Groups[2].Value;
            RegionCategory want = tag == "CODE" ? RegionCategory.CodeCache : expected[tag];
            if (tag == "CODE" && (table[index].Permissions & Permissions.Execute) == 0 && table[index].Size < 4 * MiB)
            {
                continue; // code heap segment maps: see the class comment
            }

            Assert.True(want == classification[index], $"{m.Value.Trim()}: classified {classification[index].Id()}");
            compared++;
        }

        Assert.True(compared > 60, $"only {compared} mappings compared");
    }

    private static int IndexOf(MappingTable table, ulong start)
    {
        for (int i = 0; i < table.Count; i++)
        {
            if (table[i].Start == start)
            {
                return i;
            }
        }

        return -1;
    }

    private static MemoryReport Report(string fixture, string file) =>
        DumpReader.Read(RepoPaths.Fixture(fixture, file), new MappingTable(), new Classification());

    private static long SumField(string smaps, string field)
    {
        long sum = 0;
        foreach (Match m in Regex.Matches(smaps, $@"^{field}:\s+(\d+) kB$", RegexOptions.Multiline))
        {
            sum += long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }

        return sum;
    }

    private static long SumFieldOfMemfdHeap(string smaps)
    {
        long sum = 0;
        foreach (Match m in Regex.Matches(smaps, @"memfd:java_heap.*\n(?:.*\n)*?Rss:\s+(\d+) kB"))
        {
            sum += long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }

        return sum;
    }
}
