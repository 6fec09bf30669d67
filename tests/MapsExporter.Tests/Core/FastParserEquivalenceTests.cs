using System.Text;
using CsCheck;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// The fast SmapsParser (64-byte line index, fields kept in locals, keys by length) gives what the line-at-a-time
/// parser it replaced gave: the same mappings on every captured smaps, and on mutated ones the same mappings or the
/// same error message, word for word and at the same line.
/// </summary>
public sealed class FastParserEquivalenceTests
{
    private static readonly string[] SmapsFixtures =
        [.. Directory.GetDirectories(RepoPaths.Fixtures).Select(d => Path.Combine(d, "smaps")).Where(File.Exists).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Fixtures() => [.. SmapsFixtures.Select(f => Path.GetFileName(Path.GetDirectoryName(f)!))];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_captured_smaps_parses_to_the_same_mappings(string fixture)
    {
        byte[] content = File.ReadAllBytes(RepoPaths.Fixture(fixture, "smaps"));
        AssertSameOutcome(content);
    }

    [Fact]
    public void Generated_and_edge_inputs_give_the_same_outcome()
    {
        AssertSameOutcome(ParserTests.ManyMappingsSmaps(3000));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: 4 kB\nVmFlags: rd wr"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\r\nRss: 4 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: +4 kB\nKSM: x\nabc: 1\nVmFlags:\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("\n\n7f0000000000-7f0000001000 rw-p 0 00:00 0\n\nRss:4 kB\nSize:4 kB\nSize:8 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("Rss: 4 kB\n7f0000000000-7f0000001000 rw-p 0 00:00 0\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: 4 kB\nBad line without colon that is longer than sixty-four bytes, to cross a block\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nA_key_longer_than_a_block_of_sixty_four_bytes_before_its_colon_.......: 1\nRss: 4 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: 4 kB\n\0"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("garbage\n\0"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("00000000000000001-2 rw-p 0 00:00 0\nRss: 4 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("0000000000000001-0000000000000002 rw-p 0 00:00 0\nRss: 4 kB\n"));
        AssertSameOutcome([]);
        AssertSameOutcome("\n"u8.ToArray());
    }

    [Fact]
    public void Kernel_width_lines_and_header_fields_give_the_same_outcome()
    {
        // Fields as the kernel prints them ("%-16s%8lu kB": 27 bytes), with values the digit loop leaves to Utf8Parser.
        static string Kb(string key, string value) => $"{key + ":",-16}{value,8} kB\n";
        const string Header = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        foreach (string value in (string[])["4", "+4", "-0", "-4", "04", "00000004", "4x", " ", "4 ", "99999999", "123456789", "12345678901234567", "123456789012345678", "1234567890123456789012"])
        {
            AssertSameOutcome(Encoding.ASCII.GetBytes(Header + Kb("Size", value) + Kb("Rss", value) + Kb("Pss", value) + Kb("Swap", value) + Kb("SwapPss", value) + "VmFlags: rd wr \n"));
            AssertSameOutcome(Encoding.ASCII.GetBytes(Header + Kb("Rss", "4") + Kb("Pss", value) + Kb("Lazy", value) + Kb("VmFlags", value)));
        }

        foreach (string flags in (string[])["", " ", "rd", "rd wr mr mw me ac sd", "  ac  nr x h ht lo dd gd sd hg nh ", "a", "ac", "acx nrnr   l"])
        {
            AssertSameOutcome(Encoding.ASCII.GetBytes(Header + Kb("Rss", "4") + "VmFlags: " + flags + "\n" + Header.Replace("7f0000000000-7f0000001000", "7f0000001000-7f0000002000") + Kb("Rss", "8") + "VmFlags:" + flags));
        }

        // Inodes as the digit loop reads them and as it leaves them to Utf8Parser; paths repeated, interleaved and not UTF-8.
        foreach (string inode in (string[])["0", "1", "+1", "-1", "01", "1x", "1234567890123456789", "12345678901234567890", "99999999999999999999", ""])
        {
            AssertSameOutcome(Encoding.ASCII.GetBytes($"7f0000000000-7f0000001000 r--p 00000000 fe:00 {inode}\n" + Kb("Rss", "4")));
            AssertSameOutcome(Encoding.ASCII.GetBytes($"7f0000000000-7f0000001000 r--p 00000000 fe:00 {inode}  /lib/a.so\n" + Kb("Rss", "4")));
        }

        // Hex fields as the digit table reads them: uppercase, other letters, none, 16 and 17 digits, a missing terminator.
        foreach (string header in (string[])["7F00-7f10 rw-p 0 00:00 0", "7f0g-7f10 rw-p 0 00:00 0", "-7f10 rw-p 0 00:00 0", "7f00-7f10", "7f00-7f10 rw-p 0",
            "7f00-7f10 rw-p 0 00:00", "7f00-7f10 rw-p 0 00 0", "7f00-7f10 rw-p 0 :00 0", "7f00-7f10 rw-p 0 00: 0", "7f00-7f10 rw-p 0 1000:00 0",
            "7f00-7f10 rw-p 0 00:100000 0", "7f00-7f10 rw-p fffffffffffffffff 00:00 0", "7f00-7f10 rw-p ffffffffffffffff fe:ab 0", "7f00-7f10 rw-p 0x0 00:00 0"])
        {
            AssertSameOutcome(Encoding.ASCII.GetBytes(header + "\n" + Kb("Rss", "4")));
        }

        var text = new StringBuilder();
        string[] paths = ["/lib/a.so", "/lib/b.so", "", "/lib/a.so", "/lib/a.so", "[heap]", "", "/lib/b.so", "/lib/a.so (deleted)", "/lib/\u00e9.so", "/lib/\u00e9.so"];
        for (int i = 0; i < paths.Length; i++)
        {
            text.Append(FormattableString.Invariant($"{0x7f0000000000 + (i * 0x1000):x}-{0x7f0000001000 + (i * 0x1000):x} r--p 00000000 fe:00 {(paths[i].Length == 0 ? 0 : 7)}   {paths[i]}\n")).Append(Kb("Rss", "4"));
        }

        AssertSameOutcome(Encoding.UTF8.GetBytes(text.ToString()));
        byte[] invalid = Encoding.ASCII.GetBytes(Header.Replace(" \n", "  /x\u0001\u0002\n") + Kb("Rss", "4") + Header.Replace("7f0000000000-7f0000001000", "7f0000001000-7f0000002000").Replace(" \n", "  /x\u0003\u0004\n") + Kb("Rss", "4"));
        invalid[Array.IndexOf(invalid, (byte)1)] = 0xff;
        invalid[Array.IndexOf(invalid, (byte)2)] = 0xfe;
        invalid[Array.IndexOf(invalid, (byte)3)] = 0xfe;
        invalid[Array.IndexOf(invalid, (byte)4)] = 0xff;
        AssertSameOutcome(invalid);
    }

    [Fact]
    public void A_table_reused_across_files_names_every_path_right()
    {
        // The last path seen is remembered by the table across parses, and forgotten when the table drops its paths.
        static byte[] Smaps(IEnumerable<string> paths) => Encoding.UTF8.GetBytes(string.Concat(paths.Select((p, i) =>
            FormattableString.Invariant($"{0x7f0000000000 + (i * 0x1000):x}-{0x7f0000001000 + (i * 0x1000):x} r--p 00000000 fe:00 7   {p}\nRss:                   4 kB\n"))));
        var table = new MappingTable();
        byte[][] files =
        [
            Smaps(["/lib/a.so", "/lib/a.so"]),
            Smaps(["/lib/a.so", "/lib/b.so"]),
            Smaps(Enumerable.Range(0, 5000).Select(i => $"/lib/{i}.so")),
            Smaps(["/lib/4999.so", "/lib/a.so"]),
            Smaps(["/lib/a.so"]),
        ];
        foreach (byte[] file in files)
        {
            var expectedPaths = new List<string>();
            List<Mapping> expected = ReferenceSmapsParser.Parse(file, expectedPaths, "s");
            SmapsParser.Parse(file, table, "s");
            Assert.Equal(expected.Count, table.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expectedPaths[expected[i].PathId], table.PathOf(i));
            }
        }
    }

    [Fact]
    public void Fixed_width_values_header_tests_and_long_lines_give_the_same_outcome()
    {
        // 27-byte kept fields with what the kernel never puts in their 8 value columns or after them, and 27-byte VmFlags lines.
        const string Header = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        foreach (string value in (string[])["1 234567", "1234567 ", "    /123", "    :123", "   12/45", "   12:45", "\t\t\t\t1234", "       0", "00000000", "99999999", "   4\u00004"])
        {
            foreach (string key in (string[])["Size:", "Rss:", "Pss:", "Swap:", "VmFlags:"])
            {
                foreach (string unit in (string[])[" kB", " kb", " MB", "kB ", "  B"])
                {
                    string line = $"{key,-16}{value}{unit}";
                    AssertSameOutcome(Encoding.ASCII.GetBytes(Header + line + "\n" + "Rss:                   4 kB\n"));
                    AssertSameOutcome(Encoding.ASCII.GetBytes(Header + "Rss:                   4 kB\n" + line));
                }
            }
        }

        AssertSameOutcome(Encoding.ASCII.GetBytes(Header + "Rss:                   4 kB\nVmFlags: rd mr mw me ac sd \n" + Header.Replace("7f0000000000-7f0000001000", "7f0000001000-7f0000002000") + "Rss:                   4 kB\nVmFlags:         12345 kB\n"));

        // Headers as the 16-byte hex test sees them: 16 and 17 digits, a line of exactly 17 bytes, bytes just outside the
        // digit ranges ('/', ':', '`', 'g', 'A'), a '-' first, a field line starting with a lowercase hex letter.
        foreach (string header in (string[])["0123456789abcdef-fffffffffffffff0 rw-p 0 00:00 0", "0123456789abcdef0-fffffffffffffff0 rw-p 0 00:00 0", "0123456789abcdef-",
            "012345678/abcdef-f rw-p 0 00:00 0", "012345678:abcdef-f rw-p 0 00:00 0", "012345678`abcdef-f rw-p 0 00:00 0", "012345678gabcdef-f rw-p 0 00:00 0",
            "0123456789Abcdef-f rw-p 0 00:00 0", "-0123456789abcdef rw-p 0 00:00 0", "f-ff rw-p 0 00:00 0", "abc:                   4 kB", "abcdef: a field of more than seventeen bytes"])
        {
            AssertSameOutcome(Encoding.ASCII.GetBytes(header + "\nRss:                   4 kB\n"));
            AssertSameOutcome(Encoding.ASCII.GetBytes(Header + "Rss:                   4 kB\n" + header + "\nRss:                   4 kB\n"));
        }

        // Long lines read 32 bytes at a time: a ':' or a NUL only past the first 32 bytes, paths with spaces, ':' and
        // " (deleted)", lines of 31 to 33 bytes, and a last line that ends the text without a newline.
        string[] longLines = ["7f0000000000-7f0000001000 rw-s 00000000 00:01 1234   /memfd:a b (deleted)", "7f0000000000-7f0000001000 rw-p 00000000 00:00 0     /a b/c d\u0000e",
            "7f0000000000-7f0000001000 rw-p 0 00:00 0", "7f0000000000-7f0000001000 rw-p 0 00:00 0 ", "7f0000000000-7f0000001000 rw-p 0 00:00 0  ",
            "A_key_of_forty_bytes_that_has_its_colon_: 1", "A_key_of_forty_bytes_that_has_no_colon_at_all_before_its_end"];
        foreach (string line in longLines)
        {
            AssertSameOutcome(Encoding.ASCII.GetBytes(line + "\nRss:                   4 kB\n"));
            AssertSameOutcome(Encoding.ASCII.GetBytes(Header + "Rss:                   4 kB\n" + line));
            AssertSameOutcome(Encoding.ASCII.GetBytes(Header + "Rss:                   4 kB\n" + line + "\n" + new string('x', 40)));
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Captured_smaps_reordered_or_rewidened_give_the_same_outcome(string fixture)
    {
        // Derived from the captures: each record's field lines in reverse order (VmFlags first, kept fields between and
        // after the ignored ones), every 27-byte field one byte narrower or wider, and the text cut before its last newline.
        byte[] content = File.ReadAllBytes(RepoPaths.Fixture(fixture, "smaps"));
        string text = Encoding.Latin1.GetString(content);
        string[] lines = text.TrimEnd('\n').Split('\n');
        var reversed = new StringBuilder();
        var narrower = new StringBuilder();
        var wider = new StringBuilder();
        var fields = new List<string>();
        foreach (string line in lines)
        {
            if (line.Length > 0 && line[0] is >= 'a' and <= 'f' or >= '0' and <= '9')
            {
                Flush();
                reversed.Append(line).Append('\n');
            }
            else
            {
                fields.Add(line);
            }

            narrower.Append(line.Length == 27 && line[15] == ' ' ? line.Remove(15, 1) : line).Append('\n');
            wider.Append(line.Length == 27 ? line.Insert(16, " ") : line).Append('\n');
        }

        Flush();
        AssertSameOutcome(Encoding.Latin1.GetBytes(reversed.ToString()));
        AssertSameOutcome(Encoding.Latin1.GetBytes(narrower.ToString()));
        AssertSameOutcome(Encoding.Latin1.GetBytes(wider.ToString()));
        AssertSameOutcome(content[..^1]);

        void Flush()
        {
            fields.Reverse();
            foreach (string field in fields)
            {
                reversed.Append(field).Append('\n');
            }

            fields.Clear();
        }
    }

    [Fact]
    public void Mutated_captures_give_the_same_mappings_or_the_same_error()
    {
        byte[][] captures = [.. SmapsFixtures.Take(6).Select(File.ReadAllBytes)];
        Gen.Select(Gen.Int[0, captures.Length - 1], Gen.Int[0, 40], Gen.Int, Gen.Double[0, 1], (which, flips, seed, cut) =>
        {
            byte[] copy = (byte[])captures[which].Clone();
            var random = new Random(seed);
            // Flips biased to the bytes that steer the parser.
            byte[] steering = [(byte)'\n', (byte)':', (byte)' ', (byte)'-', 0, (byte)'R', (byte)'a', (byte)'x', (byte)'7', (byte)'k'];
            for (int i = 0; i < flips; i++)
            {
                copy[random.Next(copy.Length)] = random.Next(2) == 0 ? steering[random.Next(steering.Length)] : (byte)random.Next(256);
            }

            return random.Next(3) == 0 ? copy[..(int)(copy.Length * cut)] : copy;
        }).Sample(AssertSameOutcome, iter: 300);
    }

    private static void AssertSameOutcome(byte[] content) => SmapsParserEquivalence.AssertSameOutcome(content);
}
