using System.Globalization;
using System.Text;
using CsCheck;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// SmapsParser's record template (a body learned from one of the first 8 records, later bodies compared whole and their
/// Size, Rss, Pss and Swap read from columns 16 to 23) stands only for what reading the body line by line finds: any
/// body it gets wrong would show here as another outcome than the reference parser's (other mappings, or another error
/// message or line). Inputs are built from a capture, so every record before the one changed has the kernel's exact
/// layout: the template is learned from record 1 and matched from record 2 on (SmapsParser.Parse), and the changed
/// record is one the template is tried on.
/// </summary>
public sealed class RecordTemplateEquivalenceTests
{
    // 52 records of 4 kB mappings and arenas, each body 23 fields of 27 or 24 bytes and a VmFlags line.
    private const string SmallCapture = "native-arenas-7";

    // The bytes that steer a reading (newline, NUL, ':', ' ', signs, digits, a unit letter) and the bytes that tell
    // the template's masks apart: 0x40 and 0x60 are '@' and '`' without and with bit 5, 0x2f and 0x3a just outside the
    // digits, 0xb0 and 0xb9 digits with bit 7, 0x10 and 0x19 digits without bit 5, 0x70 and 0x79 digits with bit 6.
    private static readonly byte[] Replacements =
    [
        0, (byte)'\n', (byte)':', (byte)' ', (byte)'0', (byte)'9', (byte)'+', (byte)'-', (byte)'x', (byte)'K', 0x7f, 0xff, 0x40, 0x60, 0x2f,
        (byte)'\r', (byte)'\t', 0xb0, 0xb9, 0x10, 0x19, 0x70, 0x79,
    ];

    private static readonly Rec[] Records = Load(SmallCapture);

    public static TheoryData<int> MutatedRecords => [0, 2];

    private static readonly string[] Kept = ["Size", "Rss", "Pss", "Swap"];

    public static TheoryData<string> KeptKeys => [.. Kept];

    public static TheoryData<int> BodyLines => [1, 2, 3, 4, 5, 6, 7];

    [Theory]
    [MemberData(nameof(MutatedRecords))]
    public void Every_byte_of_a_body_replaced_deleted_or_doubled_gives_the_same_outcome(int record)
    {
        // Record 3 (index 2) is compared against the template learned from record 1; record 1 (index 0) changes what is
        // learned, or makes record 2 the one learned from.
        byte[] text = Render(Records.Take(4));
        (int start, int end) = Bodies(text)[record];
        for (int at = start; at < end; at++)
        {
            foreach (byte replacement in Replacements)
            {
                byte[] copy = (byte[])text.Clone();
                copy[at] = replacement;
                AssertSameOutcome(copy);
            }

            AssertSameOutcome([.. text[..at], .. text[(at + 1)..]]);
            AssertSameOutcome([.. text[..at], text[at], .. text[at..]]);
        }
    }

    [Theory]
    [MemberData(nameof(BodyLines))]
    public void Every_byte_of_a_short_body_replaced_gives_the_same_outcome(int lines)
    {
        // Bodies of 1 to 7 lines (28 to 196 bytes: one 32-byte block or none, and 1 to 6 blocks with the last overlapping),
        // Size, Rss, Pss and Swap first: every byte of record 3 replaced, and its VmFlags line too.
        byte[] text = Render(Records.Take(4).Select(r => r with { Fields = [.. r.Fields.OrderBy(f => !Kept.Any(k => f.StartsWith(k + ":", StringComparison.Ordinal))).Take(lines)] }));
        (int start, int end) = Bodies(text)[2];
        for (int at = start; at < end; at++)
        {
            foreach (byte replacement in Replacements)
            {
                byte[] copy = (byte[])text.Clone();
                copy[at] = replacement;
                AssertSameOutcome(copy);
            }
        }
    }

    [Theory]
    [MemberData(nameof(KeptKeys))]
    public void Every_byte_value_in_a_kept_fields_columns_gives_the_same_outcome(string key)
    {
        // All 256 bytes in each of the 8 value columns and in the " kB" after them: the template's digit test sees each column.
        byte[] text = Render(Records.Take(4));
        int body = Bodies(text)[2].Start;
        int line = body + Encoding.Latin1.GetString(text, body, text.Length - body).IndexOf(key + ":", StringComparison.Ordinal);
        for (int column = 16; column < 27; column++)
        {
            for (int value = 0; value < 256; value++)
            {
                byte[] copy = (byte[])text.Clone();
                copy[line + column] = (byte)value;
                AssertSameOutcome(copy);
            }
        }
    }

    [Theory]
    [MemberData(nameof(KeptKeys))]
    public void Kept_values_at_every_column_edge_give_the_same_outcome(string key)
    {
        // What "%8lu" prints and what it never does: zero, 8 digits, leading zeros, spaces between or after digits, signs,
        // all spaces, 1 to 9 digits (9 widen the line to 28 bytes), and digits that are not ASCII (full-width and
        // Arabic-Indic as UTF-8, Latin-1 superscripts, ASCII digits with bit 7 or bit 6 set or bit 5 clear).
        string[] values =
        [
            "       0", "99999999", "00000001", " 1 2", "     1 2", "    +12", "     +12", "    -12", "     -12", "     -0", "        ", "1       ",
            "1234567 ", "   12 34", "       1", "      12", "     123", "    1234", "   12345", "  123456", " 1234567", "12345678", "123456789",
            "012345678", "       /", "       :", "      1/", "      1:", "\t      1", "       1\t", "0000000a", "      0x", "    1e3", "1_000",
            Utf8AsLatin1("  \uff11\uff12"), Utf8AsLatin1("      \u0663"), "      \u00b9\u00b2", "     \u00b1\u00b2\u00b3", "      pq", "      \u0011\u0012",
        ];
        foreach (string value in values)
        {
            // Record 3 alone, then records 2 to 4 at once (the one after a changed record is compared again).
            AssertSameOutcome(Render(Records.Take(4).Select((r, i) => i == 2 ? r.With(key, value) : r)));
            AssertSameOutcome(Render(Records.Take(4).Select((r, i) => i > 0 ? r.With(key, value) : r)));
        }

        // The values the template reads itself, checked against the numbers, not only against the reference.
        foreach (string value in values.Where(v => v.Length == 8 && v.TrimStart(' ').All(char.IsAsciiDigit) && v.TrimStart(' ').Length > 0))
        {
            // A Size of 0 cannot agree with a range (Render makes it 4 kB).
            long kb = long.Parse(value, NumberStyles.AllowLeadingWhite, CultureInfo.InvariantCulture);
            if (kb == 0 && key == "Size")
            {
                continue;
            }

            var table = new MappingTable();
            SmapsParser.Parse(Render(Records.Take(4).Select((r, i) => i == 2 ? r.With(key, value) : r)), table, "s");
            Mapping mapping = table[2];
            long read = key switch
            {
                "Size" => (long)mapping.Size,
                "Rss" => mapping.ResidentBytes,
                "Pss" => mapping.ProportionalBytes,
                _ => mapping.SwapBytes,
            };
            Assert.Equal(kb * 1024, read);
        }
    }

    [Fact]
    public void A_Size_that_disagrees_with_the_range_is_reported_at_its_header()
    {
        // Records 2 and 3 are matched against the template and record 4 (the last) too: the check runs at the next header
        // or at the end, with the line number of the record's header (1 + 25 lines for each record before it).
        foreach (int record in (int[])[1, 2, 3])
        {
            foreach (string value in (string[])["       8", "00000008", "99999999", "       0"])
            {
                byte[] text = Render(Records.Take(4).Select((r, i) => i == record ? r.With("Size", value) with { RangeKb = 4 } : r));
                long kb = long.Parse(value, NumberStyles.AllowLeadingWhite, CultureInfo.InvariantCulture);
                AssertSameOutcome(text);
                ProcParseException e = Assert.Throws<ProcParseException>(() => SmapsParser.Parse(text, new MappingTable(), "s"));
                Assert.Equal(FormattableString.Invariant($"s: line {1 + (record * 25)}: Size: {kb} kB does not match the address range (4 kB)"), e.Message);
            }
        }
    }

    [Fact]
    public void Records_that_cannot_be_learned_first_and_layouts_that_change_midway_give_the_same_outcome()
    {
        // Each change on its own in each record of 12 (the record learned from, the first compared, later ones), on the
        // capture's layout, on the layout with ProtectionKey (kernels with memory protection keys print it last), and on
        // one with Rss after VmFlags (a template without Rss: a body that matches it has Rss only if a later line does).
        Rec[] plain = [.. Records.Take(12)];
        Rec[] withKey = [.. plain.Select(r => r.Inserted("THPeligible", "ProtectionKey:         0"))];
        Rec[] rssLast = [.. plain.Select(r => r.Without("Rss") with { Flags = r.Flags + "\nRss:                   4 kB" })];
        foreach (Rec[] records in (Rec[][])[plain, withKey, rssLast])
        {
            foreach (Func<Rec, Rec> change in LayoutChanges)
            {
                for (int k = 0; k < records.Length; k++)
                {
                    AssertSameOutcome(Render(records.Select((r, i) => i == k ? change(r) : r)));

                    // And from record k on: the template learned earlier never matches again, or is learned only now.
                    AssertSameOutcome(Render(records.Select((r, i) => i >= k ? change(r) : r)));
                }
            }
        }

        // The first n records cannot be learned (n up to 9, past the 8 learning is tried on); of the rest, a reordered
        // record and a record with other values, which a template learned late must still read right.
        Func<Rec, Rec>[] unlearnable =
        [
            r => r.With("Size", "123456789"), r => r.With("Rss", "123456789"), r => r.Without("THPeligible").With("Pss", "1234567890"),
            r => r with { Flags = null }, r => r.Swapped("Size", "Rss").With("Swap", "12345678901"), r => r.Inserted("KSM", ""), r => r.Renamed("KSM", "ksm"),
        ];
        foreach (Func<Rec, Rec> change in unlearnable)
        {
            for (int n = 1; n <= 9; n++)
            {
                AssertSameOutcome(Render(Records.Take(16).Select((r, i) =>
                    i < n ? change(r) : i == n + 2 ? r.Swapped("Rss", "Pss") : i == n + 4 ? r.With("Pss", "     123").With("Swap", "       7") : r)));
            }
        }
    }

    [Fact]
    public void A_table_reused_across_files_of_other_layouts_gives_the_same_outcome()
    {
        // The template lives in the table: each parse must forget the one learned from the file before.
        Rec[] plain = [.. Records.Take(6)];
        byte[][] files =
        [
            Render(plain), Render(plain.Select(r => r.Inserted("THPeligible", "ProtectionKey:         0"))), Render(plain.Select(r => r.Swapped("Rss", "Pss"))),
            Render(plain.Select(r => r.Renamed("Rss", "Rsx"))), Render(plain.Select(r => r.Without("Size").With("Rss", "    4096"))), Render(plain),
        ];
        var table = new MappingTable();
        foreach (byte[] file in files)
        {
            AssertSame(Reference(file), Parser(file, table));
        }
    }

    [Fact]
    public void Texts_cut_at_every_byte_give_the_same_outcome()
    {
        // Truncated dumps: a body that ends exactly at the end of the text (the template compare reaches the last byte),
        // one a byte short of it, a VmFlags line without its newline, and every cut between. Each cut is the front of the
        // whole text, as a read into a larger buffer passes it: a compare that read past the end would find the rest of
        // the body there and match.
        // On the capture's layout; with Swap, a kept field, last before VmFlags (a cut in its value or its " kB" is an
        // error); and with no VmFlags in record 1 (then none is required, and the records cut short are mappings).
        Rec[] records = [.. Records.Take(4)];
        foreach (byte[] text in (byte[][])[Render(records), Render(records.Select(r => r.Swapped("Swap", "THPeligible"))), Render(records.Select((r, i) => i == 0 ? r with { Flags = null } : r))])
        {
            for (int cut = 0; cut <= text.Length; cut++)
            {
                AssertSameOutcome(text.AsSpan(0, cut));
            }
        }

        Rec[] noFlags = [.. Records.Take(4).Select((r, i) => i == 3 ? r with { Flags = null } : r)];
        AssertSameOutcome(Render(noFlags));
        AssertSameOutcome(Render(noFlags).AsSpan()[..^1]);
    }

    [Fact]
    public void Whatever_follows_a_matched_body_is_read_as_before()
    {
        // Record 3's body matches; in place of its VmFlags line: nothing (the next header follows), an empty line, a
        // VmFlags line twice or misspelled, kept fields again (the last is kept), a Size that disagrees, a bad line, a NUL.
        string[] tails =
        [
            "", "\n", "\nVmFlags: rd wr mr mw me ac ", "VmFlags: rd wr\nVmFlags: ac sd", "VmFlagz: rd wr", "VmFlags:", "VmFlags: rd wr\nRss:                   8 kB",
            "Rss:                   8 kB\nPss:                   8 kB\nSwap:                  8 kB\nVmFlags: rd", "Size:                  8 kB\nVmFlags: rd",
            "Size:                  4 kB\nVmFlags: rd", "garbage", "Rss: x kB", "KSM:\0", "7f0000000000-7f0000001000 rw-p 00000000 00:00 0",
            "VmFlags: rd wr mr mw me ac sd nr hg nh dd gd lo ht xx yy zz aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp qq",
        ];
        foreach (string tail in tails)
        {
            foreach (int count in (int[])[3, 4, 6])
            {
                // The changed record in the middle, last, and the last of the text without a final newline.
                byte[] text = Render(Records.Take(count).Select((r, i) => i == 2 ? r with { Flags = tail.Length == 0 ? null : tail } : r));
                AssertSameOutcome(text);
                AssertSameOutcome(text.AsSpan()[..^1]);
            }
        }

        // Without VmFlags from record 1 on, nothing is learned (learning stops at a VmFlags line); without it from record 2
        // on, record 1 is learned and the others match with the next header right after the body.
        AssertSameOutcome(Render(Records.Take(6).Select(r => r with { Flags = null })));
        AssertSameOutcome(Render(Records.Take(6).Select((r, i) => i > 0 ? r with { Flags = null } : r)));
        AssertSameOutcome(Render(Records.Take(6).Select((r, i) => i == 0 ? r with { Flags = null } : r)));
    }

    [Fact]
    public void VmFlags_lines_like_the_ones_before_but_for_a_byte_give_the_same_outcome()
    {
        // The VmFlags lines after matched bodies alternate between two lines, as a process's mostly do (SmapsParser
        // remembers the last two); record 5's is one of them with a byte replaced, dropped or added anywhere, its last
        // bytes (up to the 32-byte window's last, at 31) included.
        string[] lines = ["VmFlags: rd wr mr mw me ac sd ", "VmFlags: rd wr mr mw me nr lo ", "VmFlags: rd ex mr mw me sd hg", "VmFlags: gd ac", "VmFlags: rd wr mr mw me ac sd h"];
        byte[] bytes = [.. " \tacdghlnorsx"u8];
        foreach (string a in lines)
        {
            foreach (string b in lines)
            {
                foreach (string like in (string[])[a, b])
                {
                    var variants = new List<string> { like[..^1], like + "c", like + " sd" };
                    for (int at = 8; at < like.Length; at++)
                    {
                        variants.AddRange(bytes.Select(c => like[..at] + (char)c + like[(at + 1)..]));
                        variants.Add(like.Remove(at, 1));
                    }

                    // Not in the last record: a VmFlags line in the text's last 32 bytes is read the general way.
                    foreach (string changed in variants)
                    {
                        string[] flags = [a, b, a, b, changed, a, b];
                        AssertSameOutcome(Render(Records.Take(7).Select((r, i) => r with { Flags = flags[i] })));
                    }
                }
            }
        }
    }

    [Fact]
    public void Random_edits_confined_to_record_bodies_give_the_same_outcome()
    {
        // Captures of many records whose every body after the first is matched; a few edits to bodies only (headers kept,
        // so the records stay in order), biased to value columns and to the bytes that steer a reading.
        byte[][] captures = [.. ((string[])[SmallCapture, "jdk17-g1-xmx512m-t20", "jdk25-zgc-xmx512m-t10"]).Select(f => File.ReadAllBytes(RepoPaths.Fixture(f, "smaps")))];
        (int Start, int End)[][] bodies = [.. captures.Select(Bodies)];
        Gen<Edit> edit = Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 1 << 20], Gen.Int[0, 6], Gen.Byte, (record, at, kind, value) => new Edit(record, at, kind, value));
        Gen.Select(Gen.Int[0, captures.Length - 1], edit.Array[1, 8]).Sample((which, edits) => AssertSameOutcome(Apply(captures[which], bodies[which], edits)), iter: 1000);
    }

    [Fact]
    public void A_one_letter_VmFlags_word_after_a_matched_body_does_not_hide_the_next_flag()
    {
        // Found by the random edits (a byte deleted from "me"): ParseVmFlags stepped 2 bytes past a word's start before
        // looking for its end, so "e nr" lost NoReserve. Here the VmFlags line follows a body the template matched.
        foreach (string flags in (string[])["VmFlags: mr mw e nr ", "VmFlags: e nr", "VmFlags: x h ht e ac", "VmFlags: e", "VmFlags:  e  sd "])
        {
            AssertSameOutcome(Render(Records.Take(4).Select((r, i) => i == 2 ? r with { Flags = flags } : r)));
        }
    }

    /// <summary>
    /// An edit inside a record's body: <paramref name="Record"/> and <paramref name="At"/> are taken modulo the records
    /// and the body's length. Kind 0 and 1 replace a byte (a steering byte, any byte), 2 puts a digit or a space in a value
    /// column of the line at <paramref name="At"/>, 3 deletes a byte, 4 inserts one, 5 drops the line, 6 swaps it with the next.
    /// </summary>
    private readonly record struct Edit(int Record, int At, int Kind, byte Value);

    private static byte[] Apply(byte[] capture, (int Start, int End)[] bodies, Edit[] edits)
    {
        var text = new List<byte>(capture);

        // From the last position back, so every edit's position is still where it was in the capture.
        foreach ((Edit e, int at) in edits.Select(e => (e, At(bodies[e.Record % bodies.Length], e.At))).OrderByDescending(p => p.Item2))
        {
            // A line dropped by an edit further on may have taken this position with it.
            if (at >= text.Count)
            {
                continue;
            }

            int lineStart = text.LastIndexOf((byte)'\n', at - 1) + 1;
            int lineEnd = text.IndexOf((byte)'\n', lineStart);
            lineEnd = lineEnd < 0 ? text.Count : lineEnd + 1;
            switch (e.Kind)
            {
                case 0:
                    text[at] = Replacements[e.Value % Replacements.Length];
                    break;
                case 1:
                    text[at] = e.Value;
                    break;
                case 2 when lineEnd - lineStart >= 25:
                    text[lineStart + 16 + (e.Value % 8)] = (byte)" 0123456789"[e.Value % 11];
                    break;
                case 3:
                    text.RemoveAt(at);
                    break;
                case 4:
                    text.Insert(at, e.Value);
                    break;
                case 5:
                    text.RemoveRange(lineStart, lineEnd - lineStart);
                    break;
                case 6:
                    int nextEnd = lineEnd < text.Count ? text.IndexOf((byte)'\n', lineEnd) : -1;
                    if (nextEnd > 0)
                    {
                        byte[] line = [.. text.GetRange(lineStart, lineEnd - lineStart)];
                        text.RemoveRange(lineStart, lineEnd - lineStart);
                        text.InsertRange(lineStart + nextEnd + 1 - lineEnd, line);
                    }

                    break;
            }
        }

        return [.. text];

        static int At((int Start, int End) body, int at) => body.Start + (at % (body.End - body.Start));
    }

    // Layout changes of one record: fields reordered, one more or fewer, a key renamed, a value that does not fit 8
    // columns, padding that is not spaces, no VmFlags, an empty line in the body, a kept field repeated with another value,
    // the lines after VmFlags dropped (in the layout with Rss after VmFlags, a record with a matching body and no Rss).
    private static readonly Func<Rec, Rec>[] LayoutChanges =
    [
        r => r.Swapped("Size", "Rss"), r => r.Swapped("Rss", "Pss"), r => r.Swapped("Swap", "SwapPss"), r => r.Swapped("KSM", "LazyFree"),
        r => r.Inserted("Pss", "Foo_Bar:               0 kB"), r => r.Inserted("Swap", "Rss:                   8 kB"), r => r.Inserted("Locked", "Size:                  8 kB"),
        r => r.Without("ProtectionKey"), r => r.Without("THPeligible"), r => r.Without("KSM"), r => r.Without("Rss"), r => r.Without("Size"),
        r => r.Renamed("Rss", "Rsx"), r => r.Renamed("KSM", "KSm"), r => r.Renamed("Pss_Dirty", "Pss_Dirt"), r => r.With("Rss", "123456789"),
        r => r.With("Size", "123456789"), r => r.With("THPeligible", "1       "), r => r.With("KSM", "1234567890"), r => r.Padded("KSM", '\t'), r => r.Padded("Rss", '\t'),
        r => r with { Flags = null }, r => r.Inserted("Referenced", ""), r => r with { Flags = r.Flags?.Split('\n')[0] },
    ];

    /// <summary>The same outcome from the reference and from SmapsParser: the same error message, or the same mappings and paths.</summary>
    private static void AssertSameOutcome(ReadOnlySpan<byte> content) => AssertSame(Reference(content), Parser(content, new MappingTable()));

    private static void AssertSame(Outcome expected, Outcome actual)
    {
        Assert.Equal(expected.Error, actual.Error);
        Assert.Equal(expected.Mappings, actual.Mappings);
    }

    private static Outcome Reference(ReadOnlySpan<byte> content)
    {
        var paths = new List<string>();
        try
        {
            return new Outcome(null, [.. ReferenceSmapsParser.Parse(content, paths, "s").Select(m => (m, m.PathId < 0 ? null : paths[m.PathId]))]);
        }
        catch (ProcParseException e)
        {
            return new Outcome(e.Message, []);
        }
    }

    private static Outcome Parser(ReadOnlySpan<byte> content, MappingTable table)
    {
        try
        {
            SmapsParser.Parse(content, table, "s");
            return new Outcome(null, [.. Enumerable.Range(0, table.Count).Select(i => (table[i], table.PathOf(i)))]);
        }
        catch (ProcParseException e)
        {
            return new Outcome(e.Message, []);
        }
    }

    /// <summary>A parse's outcome: its error message, or its mappings and their paths.</summary>
    private readonly record struct Outcome(string? Error, (Mapping Mapping, string? Path)[] Mappings);

    /// <summary>Each record's body: from just after its header's newline to just after its VmFlags line's (or the next header).</summary>
    private static (int Start, int End)[] Bodies(byte[] text)
    {
        var bodies = new List<(int, int)>();
        int start = -1;
        for (int at = 0; at < text.Length;)
        {
            int end = Array.IndexOf(text, (byte)'\n', at);
            end = end < 0 ? text.Length : end + 1;
            bool header = IsHeader(Encoding.Latin1.GetString(text, at, end - at));
            if (start >= 0 && (header || text.AsSpan(at).StartsWith("VmFlags:"u8)))
            {
                bodies.Add((start, header ? at : end));
                start = -1;
            }

            start = header ? end : start;
            at = end;
        }

        if (start >= 0)
        {
            bodies.Add((start, text.Length));
        }

        return [.. bodies];
    }

    private static bool IsHeader(string line) => line.Length > 0 && char.IsAsciiHexDigitLower(line[0]) && line.Contains('-', StringComparison.Ordinal);

    private static string Utf8AsLatin1(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));

    private static Rec[] Load(string fixture)
    {
        var records = new List<Rec>();
        string? rest = null;
        var fields = new List<string>();
        string? flags = null;
        foreach (string line in Encoding.Latin1.GetString(File.ReadAllBytes(RepoPaths.Fixture(fixture, "smaps"))).TrimEnd('\n').Split('\n'))
        {
            if (IsHeader(line))
            {
                Close();
                rest = line[line.IndexOf(' ', StringComparison.Ordinal)..];
            }
            else if (line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                flags = line;
            }
            else
            {
                fields.Add(line);
            }
        }

        Close();
        return [.. records];

        void Close()
        {
            if (rest is not null)
            {
                records.Add(new Rec(rest, [.. fields], flags));
            }

            fields.Clear();
            flags = null;
        }
    }

    /// <summary>
    /// The records one after another from 0x7f0000000000, each as long as its Size line says (when that reads as a
    /// number, else 4 kB) unless <see cref="Rec.RangeKb"/> sets it, in Latin-1 so each char is the byte.
    /// </summary>
    private static byte[] Render(IEnumerable<Rec> records)
    {
        var text = new StringBuilder();
        ulong at = 0x7f0000000000;
        foreach (Rec record in records)
        {
            ulong end = at + ((ulong)(record.RangeKb ?? record.SizeKb) * 1024);
            text.Append(FormattableString.Invariant($"{at:x}-{end:x}")).Append(record.Rest).Append('\n');
            foreach (string field in record.Fields)
            {
                text.Append(field).Append('\n');
            }

            if (record.Flags is not null)
            {
                text.Append(record.Flags).Append('\n');
            }

            at = end;
        }

        return Encoding.Latin1.GetBytes(text.ToString());
    }

    /// <summary>
    /// A record of a capture: its header from the first space on, its field lines before VmFlags, its VmFlags line(s).
    /// A change to a key the record lacks leaves it as it is.
    /// </summary>
    private sealed record Rec(string Rest, string[] Fields, string? Flags)
    {
        public long? RangeKb { get; init; }

        public long SizeKb
        {
            get
            {
                string? size = Fields.FirstOrDefault(f => f.StartsWith("Size:", StringComparison.Ordinal) && f.EndsWith(" kB", StringComparison.Ordinal));
                return size is not null && long.TryParse(size.AsSpan(5, size.Length - 8), NumberStyles.AllowLeadingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long kb) && kb > 0 ? kb : 4;
            }
        }

        /// <summary>The key's value columns (16 to 23) replaced by <paramref name="value"/>, of any width.</summary>
        public Rec With(string key, string value) => Map(key, line => line[..16] + value + line[Math.Min(24, line.Length)..]);

        public Rec Renamed(string key, string name) => Map(key, line => name + line[key.Length..]);

        /// <summary>The key's padding after its ':' as <paramref name="pad"/>, at the same width.</summary>
        public Rec Padded(string key, char pad) => Map(key, line => line[..(key.Length + 1)] + pad + line[(key.Length + 2)..]);

        public Rec Without(string key) => this with { Fields = [.. Fields.Where(f => !Is(f, key))] };

        public Rec Inserted(string after, string line) => this with { Fields = [.. Fields.SelectMany(f => Is(f, after) ? [f, line] : (string[])[f])] };

        public Rec Swapped(string first, string second)
        {
            int a = Array.FindIndex(Fields, f => Is(f, first));
            int b = Array.FindIndex(Fields, f => Is(f, second));
            if (a < 0 || b < 0)
            {
                return this;
            }

            string[] fields = [.. Fields];
            (fields[a], fields[b]) = (fields[b], fields[a]);
            return this with { Fields = fields };
        }

        private Rec Map(string key, Func<string, string> change) => this with { Fields = [.. Fields.Select(f => Is(f, key) ? change(f) : f)] };

        private static bool Is(string line, string key) => line.Length > key.Length && line[key.Length] == ':' && line.StartsWith(key, StringComparison.Ordinal);
    }
}
