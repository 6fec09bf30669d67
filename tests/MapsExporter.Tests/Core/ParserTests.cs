using System.Text;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

public sealed class ParserTests
{
    private static readonly byte[] RealSmaps = File.ReadAllBytes(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "smaps"));
    private static readonly byte[] RealMaps = File.ReadAllBytes(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "maps"));

    [Fact]
    public void Maps_line_fields_are_read_exactly()
    {
        var table = new MappingTable();
        MapsParser.Parse("7eff3eedd000-7eff3ef12000 rw-p 012dd000 fe:00 318151                     /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so\n"u8, table, "t");
        Mapping m = table[0];
        Assert.Equal(0x7eff3eedd000UL, m.Start);
        Assert.Equal(0x7eff3ef12000UL, m.End);
        Assert.Equal(Permissions.Read | Permissions.Write, m.Permissions);
        Assert.Equal(0x12ddUL << 12, m.Offset);
        Assert.Equal((0xfeu << 20) | 0u, m.Device);
        Assert.Equal(318151UL, m.Inode);
        Assert.Equal(MappingKind.File, m.Kind);
        Assert.Equal("/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so", table.PathOf(m));
        Assert.Equal(-1, m.ResidentBytes);
    }

    [Theory]
    [InlineData("7fff98beb000-7fff98c0c000 rw-p 00000000 00:00 0                          [stack]", MappingKind.Stack)]
    [InlineData("00ec7000-01224000 rw-p 00000000 00:00 0                                  [heap]", MappingKind.Heap)]
    [InlineData("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]", MappingKind.Kernel)]
    [InlineData("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ", MappingKind.Anonymous)]
    [InlineData("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 [anon: glibc: malloc arena]", MappingKind.NamedAnonymous)]
    [InlineData("40000000000-40017a00000 rw-s 00000000 00:01 28                           /memfd:java_heap (deleted)", MappingKind.File)]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 fe:00 12 /path with spaces/file name.jar", MappingKind.File)]
    public void Path_kinds_are_told_apart(string line, MappingKind kind)
    {
        var table = new MappingTable();
        MapsParser.Parse(Encoding.UTF8.GetBytes(line + "\n"), table, "t");
        Assert.Equal(kind, table[0].Kind);
    }

    [Fact]
    public void Smaps_fields_and_vmflags_are_read()
    {
        var table = new MappingTable();
        SmapsParser.Parse(RealSmaps, table, "smaps");
        Assert.True(table.HasSmapsFields);
        Assert.Equal(RealMaps.Count((byte)'\n'), table.Count);
        Mapping heap = table[0];
        Assert.Equal(0xe0000000UL, heap.Start);
        Assert.True(heap.HasFlag(VmFlags.Known | VmFlags.Accountable));
        Assert.False(heap.HasFlag(VmFlags.NoReserve));
        Assert.True(heap.ResidentBytes > 0);
        Assert.True(heap.ProportionalBytes > 0);
    }

    [Fact]
    public void Maps_and_smaps_of_the_same_process_give_the_same_mappings()
    {
        var maps = new MappingTable();
        var smaps = new MappingTable();
        MapsParser.Parse(RealMaps, maps, "maps");
        SmapsParser.Parse(RealSmaps, smaps, "smaps");
        Assert.Equal(maps.Count, smaps.Count);
        for (int i = 0; i < maps.Count; i++)
        {
            Assert.Equal((maps[i].Start, maps[i].End, maps[i].Permissions, maps.PathOf(i)), (smaps[i].Start, smaps[i].End, smaps[i].Permissions, smaps.PathOf(i)));
        }
    }

    [Fact]
    public void Format_is_detected_by_content()
    {
        Assert.Equal(DumpFormat.Smaps, DumpFormatDetector.Detect(RealSmaps, "x"));
        Assert.Equal(DumpFormat.Maps, DumpFormatDetector.Detect(RealMaps, "x"));
    }

    public static TheoryData<string, byte[], string> BadInputs() => new()
    {
        { "empty", [], "empty" },
        { "only newlines", "\n\n\n"u8.ToArray(), "empty" },
        { "binary", [0x7f, (byte)'E', (byte)'L', (byte)'F', 0, 1, 2, 3], "binary" },
        // Past the first lines, which tell the format, NUL bytes are found by the parsers (no pass of the detector's own).
        { "smaps with a NUL in a value", WithNul(RealSmaps, Encoding.Latin1.GetString(RealSmaps).IndexOf("Rss:", 4000, StringComparison.Ordinal) + 20), "binary" },
        { "smaps with a NUL as its last byte", WithNul(RealSmaps, RealSmaps.Length - 1), "binary" },
        { "maps with a NUL in a path", WithNul(RealMaps, Encoding.Latin1.GetString(RealMaps).IndexOf('/', 2000) + 1), "binary" },
        { "garbage text", "hello world\nthis is not a maps file\n"u8.ToArray(), "line 1" },
        { "bad permissions", "7f00-7f10 rwzp 00000000 00:00 0\n"u8.ToArray(), "permissions" },
        { "end below start", "7f10-7f00 rw-p 00000000 00:00 0\n"u8.ToArray(), "end address" },
        { "overlapping", "7f00-7f10 rw-p 0 00:00 0\n7f08-7f20 rw-p 0 00:00 0\n"u8.ToArray(), "overlapping" },
        { "cut mid-line", "7f00-7f10 rw-p 0000"u8.ToArray(), "line 1" },
        { "smaps cut before VmFlags", Truncate(RealSmaps, "VmFlags", fromEnd: true), "truncated" },
        { "smaps cut mid-line", Truncate(RealSmaps, "Pss:", fromEnd: true), "expected a 'Field: value' line" },
        { "smaps cut mid-record", Truncate(RealSmaps, "Swap:", fromEnd: true), "truncated" },
        { "smaps bad size", Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(RealSmaps).Replace("Rss:                   0 kB", "Rss:                   x kB", StringComparison.Ordinal)), "size" },
        { "smaps size mismatch", "7f0000000000-7f0000001000 rw-p 0 00:00 0\nSize: 8 kB\nRss: 4 kB\nVmFlags: rd wr\n"u8.ToArray(), "Size" },
    };

    private static byte[] WithNul(byte[] content, int at)
    {
        byte[] copy = (byte[])content.Clone();
        copy[at] = 0;
        return copy;
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_gives_one_clear_error_naming_the_problem(string name, byte[] content, string expected)
    {
        var table = new MappingTable();
        var classification = new Classification();
        ProcParseException error = Assert.Throws<ProcParseException>(() => DumpReader.Report(content, "dump.txt", table, classification));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("dump.txt", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.NotNull(name);
    }

    [Fact]
    public void A_megabyte_long_line_is_bounded_and_escaped()
    {
        string longPath = "/" + new string('a', 1024 * 1024) + "\u0001";
        var table = new MappingTable();
        MapsParser.Parse(Encoding.UTF8.GetBytes($"7f00-7f10 r--p 0 fe:00 5 {longPath}\n"), table, "t");
        Assert.Equal(MapsLineParser.MaxPathBytes, table.PathOf(0)!.Length);
    }

    [Fact]
    public void Reparsing_a_10000_mapping_smaps_allocates_nothing_per_mapping()
    {
        byte[] smaps = ManyMappingsSmaps(10_000);
        var table = new MappingTable();
        SmapsParser.Parse(smaps, table, "t");
        Assert.Equal(10_000, table.Count);
        long before = GC.GetAllocatedBytesForCurrentThread();
        SmapsParser.Parse(smaps, table, "t");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Steady state: table, paths and buffers are reused. Anything per mapping would be >= 10,000 bytes.
        Assert.True(allocated < 1000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Classifying_and_reporting_a_10000_mapping_smaps_allocates_nothing_per_mapping()
    {
        byte[] smaps = ManyMappingsSmaps(10_000);
        var table = new MappingTable();
        var classification = new Classification();
        DumpReader.Report(smaps, "t", table, classification);
        // The least of three calls: one call in a full run allocated 8,056 bytes once (likely a pooled buffer rented
        // anew after the GC trimmed the pool); anything per mapping would be >= 10,000 bytes in every call.
        var allocations = new List<long>();
        for (int call = 0; call < 3; call++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            DumpReader.Report(smaps, "t", table, classification);
            allocations.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(allocations.Min() < 5000, $"allocated {string.Join(", ", allocations)} bytes");
    }

    /// <summary>A real smaps record shape repeated, alternating permissions so no two neighbours could merge.</summary>
    internal static byte[] ManyMappingsSmaps(int count)
    {
        var text = new StringBuilder();
        ulong address = 0x7f0000000000;
        for (int i = 0; i < count; i++)
        {
            string perms = (i % 2) == 0 ? "rw-p" : "r--p";
            string path = (i % 3) == 0 ? "/usr/lib/x86_64-linux-gnu/libc.so.6" : "";
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{address:x}-{address + 0x1000:x} {perms} 00000000 00:00 0 {path}\n");
            text.Append("Size:                  4 kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\nRss:                   4 kB\nPss:                   4 kB\n");
            text.Append("Pss_Dirty:             4 kB\nShared_Clean:          0 kB\nShared_Dirty:          0 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:         4 kB\n");
            text.Append("Referenced:            4 kB\nAnonymous:             4 kB\nKSM:                   0 kB\nLazyFree:              0 kB\nAnonHugePages:         0 kB\n");
            text.Append("Swap:                  0 kB\nSwapPss:               0 kB\nLocked:                0 kB\nTHPeligible:           0\nVmFlags: rd wr mr mw me ac \n");
            address += 0x2000;
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static byte[] Truncate(byte[] content, string marker, bool fromEnd)
    {
        string text = Encoding.UTF8.GetString(content);
        int index = fromEnd ? text.LastIndexOf(marker, StringComparison.Ordinal) : text.IndexOf(marker, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text[..index]);
    }
}
