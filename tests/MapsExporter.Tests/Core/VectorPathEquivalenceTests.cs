using System.Globalization;
using System.Text;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// The vector readers of a header line (MapsLineVectorParser: 64 bytes, every field placed from digit masks) and of a
/// VmFlags line (VmFlagsLineReader: names gathered into 16-bit lanes) against the line-at-a-time reference parser.
/// Each altered line sits in the last of six records of a real capture (their ranges moved to 4 KiB each at 0x1000
/// to 0xb000, Size lines to match), so the record template is learned and matching (the VmFlags reader runs only
/// after a matched body), at least 64 bytes follow every header (the header reader runs only then), and a header's
/// own range decides whether the text parses; other inputs reach the general readers, which
/// FastParserEquivalenceTests covers.
/// </summary>
public sealed class VectorPathEquivalenceTests
{
    private static readonly string[] Records = FirstRecords("jdk17-g1-xmx512m-t20", 6);
    private const int Last = 5;

    [Fact]
    public void Header_fields_of_every_width_and_form_give_the_same_outcome()
    {
        // Each field at widths around what the masks and the vector conversions take (16 hex digits, 3 and 5 device
        // digits, 16 inode digits), in forms the kernel never prints, and lines ending at and around 32 and 64 bytes.
        string[] starts = ["7f0000003000", "10000", "0000000000010000", "00000000000010000", "ffffffffff600000", "7F0000003000", "7f000000300g", "1", ""];
        string[] ends = ["7f0000004000", "7f0000003000", "7f0000002fff", "ffffffffff601000", "ffffffffffffffff", "1ffffffffffffffff", "7f00000040000", "7f000000400G", ""];
        string[] permissions = ["rw-p", "r-xp", "---p", "rwxs", "rw-x", "rw-", "rw-pp", "RW-P"];
        string[] offsets = ["00000000", "0", "0000000000000000", "00000000000000000", "0001a000", "0001A000", "", "x"];
        string[] devices = ["00:00", "fe:00", "fff:fffff", "1000:00", "00:100000", "0:0", "fe00", ":00", "00:", "FE:00", "fe::00"];
        string[] inodes = ["0", "1234567", "1234567890123456", "12345678901234567", "1234567890123456789", "12345678901234567890", "+1", "-1", "01", "1x", ""];
        string[] tails = ["", " ", "  ", "                          /usr/lib/x86_64-linux-gnu/libc.so.6", " [heap]", " /a b (deleted)", "\t/x"];

        foreach (string start in starts)
        {
            foreach (string end in ends)
            {
                AssertHeader($"{start}-{end} rw-p 00000000 00:00 0 ");
            }
        }

        foreach (string perms in permissions)
        {
            foreach (string offset in offsets)
            {
                AssertHeader($"7f0000003000-7f0000004000 {perms} {offset} 00:00 0 ");
            }
        }

        foreach (string device in devices)
        {
            foreach (string inode in inodes)
            {
                foreach (string tail in tails)
                {
                    AssertHeader($"7f0000003000-7f0000004000 r--p 00000000 {device} {inode}{tail}");
                }
            }
        }

        // The line's end around the 32nd and 64th byte: the masks stop there, the next line's bytes must not count.
        for (int padding = 0; padding < 40; padding++)
        {
            AssertHeader("7f0000003000-7f0000004000 r--p 00000000 fe:00 12" + new string('3', padding % 20) + new string(' ', padding));
            AssertHeader("c000-d000 r--p 0 0:0 " + new string('1', Math.Max(1, padding)));
        }
    }

    [Fact]
    public void Header_reader_takes_every_field_width_it_reads_and_reads_it_as_the_general_reader()
    {
        // Fields of every width the 16-byte reader converts (addresses and offset of 1 to 16 hex digits, letters
        // included, a hex digit after a field's last one cut off by the mask), lines ending before, at and past the
        // 16th, 32nd, 48th and 64th byte with the next line's bytes in the 64 loaded, at odd places in the text.
        var random = new Random(18);
        for (int sample = 0; sample < 5000; sample++)
        {
            string Hex(int digits) => new(Enumerable.Range(0, digits).Select(i => "0123456789abcdef"[random.Next(i == 0 ? 1 : 0, 16)]).ToArray());
            string start = Hex(1 + random.Next(16));
            string end = Hex(start.Length + random.Next(17 - start.Length));
            if (end.Length == start.Length && string.CompareOrdinal(end, start) < 0)
            {
                (start, end) = (end, start);
            }

            string tail = random.Next(3) switch
            {
                0 => "",
                1 => " ",
                _ => new string(' ', random.Next(1, 30)) + "/lib/" + new string('x', random.Next(40)),
            };
            string fields = $"{start}-{end} rwx{"ps"[random.Next(2)]} {Hex(1 + random.Next(16))} {Hex(1 + random.Next(3))}:{Hex(1 + random.Next(5))} {random.NextInt64(1, long.MaxValue).ToString(CultureInfo.InvariantCulture).PadLeft(19, '1')[..(1 + random.Next(16))]}";
            string line = fields + tail;
            byte[] text = Encoding.Latin1.GetBytes(new string('7', sample % 5) + line + "\nRss:   12 kB\n" + new string('9', 64));
            int at = sample % 5;

            // The reader declines only a line whose fields end past the 64 bytes it loads (at most 83 here).
            var vectorTable = new MappingTable();
            Assert.Equal(fields.Length < MapsLineVectorParser.ReadableBytes, MapsLineVectorParser.TryParse(text, at, line.Length, vectorTable, out Mapping read));
            if (fields.Length >= MapsLineVectorParser.ReadableBytes)
            {
                continue;
            }

            var generalTable = new MappingTable();
            Assert.Null(MapsLineParser.TryParse(Encoding.Latin1.GetBytes(line), generalTable, out Mapping expected));
            Assert.Equal(expected, read);
            Assert.Equal(generalTable.PathOf(expected), vectorTable.PathOf(read));
        }
    }

    [Fact]
    public void Every_byte_of_a_header_replaced_gives_the_same_outcome()
    {
        string header = "7f0000003000-7f0000004000" + Records[2][Records[2].IndexOf(' ', StringComparison.Ordinal)..Records[2].IndexOf('\n', StringComparison.Ordinal)];
        byte[] replacements = [0, (byte)'\n', (byte)' ', (byte)'-', (byte)':', (byte)'0', (byte)'9', (byte)'a', (byte)'f', (byte)'g', (byte)'A', (byte)'x', (byte)'+', 0x7f, 0xff];
        for (int i = 0; i < header.Length; i++)
        {
            foreach (byte replacement in replacements)
            {
                byte[] bytes = Encoding.Latin1.GetBytes(header);
                bytes[i] = replacement;
                AssertHeader(Encoding.Latin1.GetString(bytes));
            }
        }
    }

    [Fact]
    public void Maps_files_and_every_byte_of_a_maps_line_replaced_parse_as_the_reference_reads_them()
    {
        // MapsParser reads its lines through the same header reader: every captured maps whole, and the first six
        // lines of one with every byte of the third replaced (64 bytes and more follow it, so the reader runs).
        foreach (string fixture in Directory.GetDirectories(RepoPaths.Fixtures).Where(d => File.Exists(Path.Combine(d, "maps"))))
        {
            AssertSameMaps(File.ReadAllBytes(Path.Combine(fixture, "maps")));
        }

        string[] lines = File.ReadAllLines(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "maps"), Encoding.Latin1)[..6];
        byte[] replacements = [0, (byte)'\n', (byte)' ', (byte)'-', (byte)':', (byte)'0', (byte)'9', (byte)'a', (byte)'f', (byte)'g', (byte)'A', (byte)'x', (byte)'+', 0x7f, 0xff];
        for (int i = 0; i < lines[2].Length; i++)
        {
            foreach (byte replacement in replacements)
            {
                byte[] bytes = Encoding.Latin1.GetBytes(string.Join('\n', lines) + "\n");
                bytes[lines[0].Length + lines[1].Length + 2 + i] = replacement;
                AssertSameMaps(bytes);
            }
        }
    }

    [Fact]
    public void VmFlags_values_of_every_form_give_the_same_outcome()
    {
        // The kernel's form with 0 to 12 flags (the vector reader takes up to 10), names kept and not, and the forms it
        // must leave to the general reader: other spacing, names of one or three letters, a line past 32 bytes.
        string[] names = ["rd", "wr", "ex", "mr", "mw", "me", "ac", "nr", "nh", "sd", "gd", "hg", "ht", "lo", "dd", "um", "uw", "sl", "mt", "ss", "0d", "dS"];
        var random = new Random(20261202);
        for (int count = 0; count <= 12; count++)
        {
            for (int sample = 0; sample < 20; sample++)
            {
                string flags = string.Concat(Enumerable.Range(0, count).Select(_ => names[random.Next(names.Length)] + " "));
                AssertVmFlags(" " + flags);
                AssertVmFlags(" " + flags.TrimEnd());
                AssertVmFlags("  " + flags);
                AssertVmFlags(flags);
                AssertVmFlags(" " + flags.Replace(" ", "  ", StringComparison.Ordinal));
            }
        }

        foreach (string value in (string[])[" ", "", " r ", " rd  ", " rdx ", " r d ", " ac\t", " ac ac ac ", " a\u00e9 ", " \u00e9\u00e9 ", " ac nh gd sd hg ht lo dd nr ac ", " ac nh gd sd hg ht lo dd nr ac nh "])
        {
            AssertVmFlags(value);
        }
    }

    [Fact]
    public void VmFlags_lines_repeated_alternating_and_prefixes_of_each_other_give_the_same_outcome()
    {
        // The parser remembers the last two VmFlags lines it read after a matched body and reuses their flags for an
        // identical line: sequences of repeats, alternations, a third line between, and lines that are prefixes of
        // one another (the same bytes up to a shorter line's newline).
        string[] values = [" rd wr mr mw me ac ", " rd wr mr mw me ac nh ", " rd wr mr mw me a", " mr mw me nr ", " rd wr mr mw me ac", " rd wr mr mw me ", " mr mw me ac", " mr mw me nh", " mr mw me ac ", " mr mw me nh ", " mr mw me ad", " mr mw me ad "];
        var random = new Random(7);
        for (int sample = 0; sample < 300; sample++)
        {
            var text = new StringBuilder();
            for (int i = 0; i < Records.Length; i++)
            {
                string record = Records[i];
                string value = sample % 3 == 0 ? values[(i + sample) % 2] : values[random.Next(values.Length)];
                text.Append(i == 0 ? record : record[..record.LastIndexOf("VmFlags:", StringComparison.Ordinal)] + "VmFlags:" + value + "\n");
            }

            SmapsParserEquivalence.AssertSameOutcome(Encoding.Latin1.GetBytes(text.ToString()));
        }
    }

    [Fact]
    public void Every_byte_of_a_VmFlags_line_replaced_gives_the_same_outcome()
    {
        string line = "VmFlags: rd wr mr mw me ac nh gd sd ";
        byte[] replacements = [0, (byte)'\n', (byte)' ', (byte)':', (byte)'a', (byte)'c', (byte)'g', (byte)'V', 0x7f, 0xff];
        for (int i = 0; i < line.Length; i++)
        {
            foreach (byte replacement in replacements)
            {
                byte[] bytes = Encoding.Latin1.GetBytes(line);
                bytes[i] = replacement;
                AssertRecord(record => record[..record.LastIndexOf("VmFlags:", StringComparison.Ordinal)] + Encoding.Latin1.GetString(bytes) + "\n");
            }
        }
    }

    /// <summary>The last record under <paramref name="header"/>, its Size line set to the header's range when that reads as one.</summary>
    private static void AssertHeader(string header) => AssertRecord(record =>
    {
        string body = record[(record.IndexOf('\n', StringComparison.Ordinal) + 1)..];
        string[] range = header.Split(' ')[0].Split('-');
        if (range.Length == 2 && ulong.TryParse(range[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
            && ulong.TryParse(range[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end) && end >= start && (end - start) / 1024 < 100_000_000)
        {
            body = WithSize(body, (end - start) / 1024);
        }

        return header + "\n" + body;
    });

    private static void AssertVmFlags(string value) =>
        AssertRecord(record => record[..record.LastIndexOf("VmFlags:", StringComparison.Ordinal)] + "VmFlags:" + value + "\n");

    /// <summary>The six records with the last one replaced, checked against the reference.</summary>
    private static void AssertRecord(Func<string, string> replace)
    {
        var text = new StringBuilder();
        string replaced = replace(Records[Last]);
        for (int i = 0; i < Last; i++)
        {
            text.Append(Records[i]);
        }

        try
        {
            SmapsParserEquivalence.AssertSameOutcome(Encoding.Latin1.GetBytes(text.Append(replaced).ToString()));
        }
        catch (Xunit.Sdk.XunitException e)
        {
            // Which of the many altered records it was, escaped so that it can be pasted into a test.
            string header = replaced[..replaced.IndexOf('\n', StringComparison.Ordinal)];
            string vmFlags = replaced[replaced.LastIndexOf("VmFlags:", StringComparison.Ordinal)..];
            Assert.Fail($"header {Escape(header)}, VmFlags line {Escape(vmFlags)}: {e.Message}");
        }
    }

    /// <summary>MapsParser against the reference line parser, line by line: the same mappings and paths, or the same error.</summary>
    private static void AssertSameMaps(byte[] content)
    {
        var paths = new List<string>();
        var expected = new List<Mapping>();
        string? expectedError = null;
        if (content.Contains((byte)0))
        {
            expectedError = new ProcParseException("m", 0, "binary data, not a maps or smaps dump").Message;
        }
        else
        {
            int lineNumber = 0;
            ulong previousEnd = 0;
            foreach (string line in Encoding.Latin1.GetString(content).Split('\n'))
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }

                string? problem = ReferenceMapsLineParser.TryParse(Encoding.Latin1.GetBytes(line), paths, out Mapping mapping);
                problem ??= mapping.Start < previousEnd ? "mappings out of address order or overlapping" : null;
                if (problem is not null)
                {
                    expectedError = new ProcParseException("m", lineNumber, problem).Message;
                    break;
                }

                previousEnd = mapping.End;
                expected.Add(mapping);
            }
        }

        var table = new MappingTable();
        string? error = null;
        try
        {
            MapsParser.Parse(content, table, "m");
        }
        catch (ProcParseException e)
        {
            error = e.Message;
        }

        Assert.Equal(expectedError, error);
        if (error is null)
        {
            Assert.Equal(expected.Count, table.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i], table[i]);
                Assert.Equal(expected[i].PathId < 0 ? null : paths[expected[i].PathId], table.PathOf(i));
            }
        }
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c is >= ' ' and < '\x7f' ? c.ToString() : $"\\x{(int)c:x2}"));

    /// <summary>The capture's first records, moved to 4 KiB ranges from 0x1000 (their Size lines too).</summary>
    private static string[] FirstRecords(string fixture, int count)
    {
        string text = File.ReadAllText(RepoPaths.Fixture(fixture, "smaps"), Encoding.Latin1);
        var records = new List<string>();
        int start = 0;
        for (int at = text.IndexOf("\nVmFlags:", StringComparison.Ordinal); records.Count < count; at = text.IndexOf("\nVmFlags:", start, StringComparison.Ordinal))
        {
            int end = text.IndexOf('\n', at + 1) + 1;
            string record = text[start..end];
            ulong low = 0x1000 * (2 * (ulong)records.Count + 1);
            records.Add(FormattableString.Invariant($"{low:x8}-{low + 0x1000:x8}") + WithSize(record[record.IndexOf(' ', StringComparison.Ordinal)..], 4));
            start = end;
        }

        return [.. records];
    }

    /// <summary>The record text with its Size line printed as the kernel prints it for <paramref name="kb"/>.</summary>
    private static string WithSize(string text, ulong kb)
    {
        int at = text.IndexOf("\nSize:", StringComparison.Ordinal) + 1;
        int end = text.IndexOf('\n', at);
        return text[..at] + FormattableString.Invariant($"{"Size:",-16}{kb,8} kB") + text[end..];
    }
}
