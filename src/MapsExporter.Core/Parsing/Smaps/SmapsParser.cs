using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Parsing.Smaps;

/// <summary>
/// Parses a whole <c>/proc/PID/smaps</c> file (or a dump of one): each mapping's header line followed by
/// its fields. Keeps Size, Rss, Pss, Swap and VmFlags; ignores fields it does not know, so newer kernels parse.
/// </summary>
public static class SmapsParser
{
    /// <summary>2^57 bytes, the user address space with 5-level paging, in kB.</summary>
    public const long MaxSizeKb = 1L << 47;

    // The kernel prints "%-16s%8lu kB": 27 bytes and a newline for every size up to 8 digits.
    private const int KbLineLength = 27;
    private const uint KbLineNewline = 1u << KbLineLength;
    private const uint KbLineMask = (KbLineNewline << 1) - 1;

    // A line's first ':' at 0 (no key), 3, 4 or 7 (the lengths of the keys kept) needs the full test.
    private const uint KeptKeyColons = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 7);

    // "VmFlags:" as the 8 bytes of a little-endian ulong.
    private const int VmFlagsKeyLength = 8;
    private static readonly ulong VmFlagsKey = BinaryPrimitives.ReadUInt64LittleEndian("VmFlags:"u8);

    // A record template is learned from the first of these records whose body fits one (SmapsRecordTemplate).
    private const int RecordsToLearnFrom = 8;

    public static void Parse(ReadOnlySpan<byte> content, MappingTable table, string source)
    {
        table.Clear();
        table.HasSmapsFields = true;
        SmapsRecordTemplate template = table.RecordTemplate;
        template.Forget();

        int lineNumber = 0;
        int recordLine = 0;
        int records = 0;
        ulong previousEnd = 0;
        bool sawRss = false, sawVmFlags = false, firstHadVmFlags = false;
        long sizeKb = -1;

        // The record being read: its header, and its fields gathered in locals; added to the table whole when the
        // next header (or the end) closes it, so the 80-byte Mapping is not copied once per field.
        Mapping pending = default;
        long resident = 0, proportional = 0, swap = 0;
        VmFlags flags = VmFlags.None;

        // The last two VmFlags lines read after a matched body (zero: none yet; a line holds at least its newline).
        Vector256<byte> lastFlagsLine = default, otherFlagsLine = default;
        VmFlags lastFlags = VmFlags.None, otherFlags = VmFlags.None;

        ref byte text = ref MemoryMarshal.GetReference(content);
        int length = content.Length;
        int lastWindow = length - Vector256<byte>.Count;
        int next = 0;
        while (next < length)
        {
            // The line from `start` to `end` (its newline or the end of the text) and its first ':' (or -1), from one
            // 32-byte load for most lines: smaps lines are 25 to 31 bytes but for headers and some VmFlags. A NUL byte
            // anywhere throws (binary input): every byte of the text lies in some line's window.
            int start = next;
            int end, colon;
            if (start <= lastWindow)
            {
                Window(content, ref text, start, source, out uint newlines, out uint colons);

                if ((newlines & KbLineMask) == KbLineNewline)
                {
                    // A 27-byte line ("Key:   <8 digits> kB"), most of smaps: the next line's start does not wait
                    // for this line's newline to be found, so the next load can start ahead (the branch is predicted).
                    colons &= KbLineNewline - 1;

                    // Most are fields the parser ignores (Pss_Dirty, Shared_Clean, ...): an uppercase first byte and a
                    // first ':' not at 3, 4 or 7 (Rss, Pss, Size, Swap, VmFlags), as the test below, from the masks.
                    if (records > 0 && (colons & (0u - colons) & ~KeptKeyColons) != 0 && (uint)(Unsafe.Add(ref text, start) - 'A') <= 'Z' - 'A')
                    {
                        lineNumber++;
                        next = start + KbLineLength + 1;
                        continue;
                    }

                    end = start + KbLineLength;
                    colon = colons == 0 ? -1 : start + BitOperations.TrailingZeroCount(colons);
                }
                else if (newlines != 0)
                {
                    end = start + BitOperations.TrailingZeroCount(newlines);
                    colons &= newlines ^ (newlines - 1);
                    colon = colons == 0 ? -1 : start + BitOperations.TrailingZeroCount(colons);
                }
                else
                {
                    // A longer line (headers, long VmFlags): on from the next 32 bytes, with the ':' found so far.
                    end = LongLine(content, source, start + Vector256<byte>.Count, colons == 0 ? -1 : start + BitOperations.TrailingZeroCount(colons), out colon);
                }
            }
            else
            {
                end = LongLine(content, source, start, -1, out colon);
            }

            next = end + 1;
            lineNumber++;

            // Most lines are fields the parser ignores (Pss_Dirty, Shared_Clean, Referenced, ...): a key starts with an
            // uppercase letter (a header with a lowercase hex digit) and is followed by ':'; only keys of 3, 4 or 7
            // bytes (Rss, Pss, Size, Swap, VmFlags) are looked at further.
            if (records > 0 && colon > start && (uint)(content[start] - 'A') <= 'Z' - 'A' && (colon - start) is not (3 or 4 or 7))
            {
                continue;
            }

            ReadOnlySpan<byte> line = content[start..end];
            colon = colon < 0 ? -1 : colon - start;
            if (line.IsEmpty)
            {
                continue;
            }

            // Field keys start with an uppercase letter, headers with a lowercase hex digit: only lines that might be
            // headers pay for the header test.
            if (line[0] is < (byte)'A' or > (byte)'Z' && MapsLineParser.LooksLikeHeader(line))
            {
                if (records > 0)
                {
                    CheckRecord(content, source, recordLine, pending, sawRss, sawVmFlags, firstHadVmFlags, sizeKb);
                    table.Add(pending, resident, proportional, swap, flags);
                }

                // Parsed into `pending` itself: a copy from another local, just written field by field, stalled on
                // store forwarding (~9% of Parse's profile samples).
                string? problem = MapsLineParser.TryParse(content, start, line.Length, table, out pending);
                if (problem is not null)
                {
                    throw Error(content, source, lineNumber, problem);
                }

                if (pending.Start < previousEnd)
                {
                    throw Error(content, source, lineNumber, "mappings out of address order or overlapping");
                }

                if (records == 1)
                {
                    firstHadVmFlags = sawVmFlags;
                }

                previousEnd = pending.End;
                records++;
                resident = proportional = swap = 0;
                flags = VmFlags.None;
                recordLine = lineNumber;
                sawRss = sawVmFlags = false;
                sizeKb = -1;

                // The lines up to VmFlags in one test against the record learned from an earlier one; a body that
                // differs is read line by line below, as is the one learned from.
                if (template.Length > 0)
                {
                    if (next <= length - template.Length && template.TryMatch(ref text, next, out sizeKb, out long residentKb, out long proportionalKb, out long swapKb))
                    {
                        resident = residentKb * 1024;
                        proportional = proportionalKb * 1024;
                        swap = swapKb * 1024;
                        sawRss = template.HasRss;
                        next += template.Length;
                        lineNumber += template.Lines;

                        // The VmFlags line that ends the body, when it ends within 32 bytes: what the general path
                        // below would make of it (ParseVmFlags skips the spaces after the ':' itself).
                        if (next <= lastWindow && Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref text, next)) == VmFlagsKey)
                        {
                            Window(content, ref text, next, source, out uint newlines, out _);
                            if (newlines != 0)
                            {
                                // A process has a few distinct VmFlags lines (a stack's, its guard page's, a library's):
                                // the last two are remembered, the line up to its newline compared whole.
                                int vmFlagsEnd = next + BitOperations.TrailingZeroCount(newlines);
                                Vector256<byte> vmFlagsLine = Vector256.LoadUnsafe(ref text, (nuint)next) & PrefixMask.Of256(vmFlagsEnd - next + 1);
                                if (vmFlagsLine == lastFlagsLine)
                                {
                                    flags = lastFlags;
                                }
                                else
                                {
                                    int value = next + VmFlagsKeyLength;
                                    if (vmFlagsLine == otherFlagsLine)
                                    {
                                        flags = otherFlags;
                                    }
                                    else if (value > lastWindow || !VmFlagsLineReader.TryRead(ref text, value, vmFlagsEnd - value, out flags))
                                    {
                                        flags = ParseVmFlags(content[value..vmFlagsEnd]);
                                    }

                                    (otherFlagsLine, otherFlags, lastFlagsLine, lastFlags) = (lastFlagsLine, lastFlags, vmFlagsLine, flags);
                                }

                                sawVmFlags = true;
                                lineNumber++;
                                next = vmFlagsEnd + 1;
                            }
                        }
                    }
                }
                else if (records <= RecordsToLearnFrom && next < length)
                {
                    template.TryLearn(content, next);
                }

                continue;
            }

            if (records == 0)
            {
                throw Error(content, source, lineNumber, "expected a mapping line like '7f00-7f10 rw-p 0 00:00 0'");
            }

            if (colon <= 0)
            {
                throw Error(content, source, lineNumber, "expected a 'Field: value' line");
            }

            // Keys by length, then bytes: most lines (Pss_Dirty, Shared_Clean, Referenced, ...) are skipped on their length.
            SmapsField field = SmapsRecordTemplate.FieldOf(line[..colon]);
            if (field == SmapsField.Other)
            {
                continue;
            }

            // The kernel pads keys to 16 columns and values to 8: "Rss:    1234 kB". Plain digits and " kB" are read
            // here; anything else (a sign, 18 digits or more, another unit) takes the general path below.
            int at = colon + 1;
            if (line.Length == KbLineLength && start <= lastWindow)
            {
                // The spaces from the line's 32 bytes: the first byte after the ':' that is not one (at most the newline).
                uint spaces = Mask(ref text, start, (byte)' ');
                at = BitOperations.TrailingZeroCount(~spaces & (uint.MaxValue << at));
            }
            else
            {
                while (at < line.Length && line[at] == (byte)' ')
                {
                    at++;
                }
            }

            if (field == SmapsField.VmFlags)
            {
                flags = ParseVmFlags(line[at..]);
                sawVmFlags = true;
                continue;
            }

            long kb = 0;
            int digitsEnd = at;
            while (digitsEnd < line.Length && (uint)(line[digitsEnd] - '0') <= 9)
            {
                kb = (kb * 10) + (line[digitsEnd] - '0');
                digitsEnd++;
            }

            if (digitsEnd == at || digitsEnd - at > 17 || !line[digitsEnd..].SequenceEqual(" kB"u8))
            {
                kb = ParseSize(content, source, lineNumber, line[at..]);
            }

            // No mapping holds more than the 57-bit (5-level paging) address space; a bigger value is corrupt input,
            // and would overflow kb * 1024 (found by fuzzing: OverflowException escaped the report).
            if (kb > MaxSizeKb)
            {
                throw Error(content, source, lineNumber, $"size {kb} kB is larger than the address space");
            }

            long bytes = kb * 1024;
            switch (field)
            {
                case SmapsField.Rss:
                    resident = bytes;
                    sawRss = true;
                    break;
                case SmapsField.Pss:
                    proportional = bytes;
                    break;
                case SmapsField.Swap:
                    swap = bytes;
                    break;
                default:
                    sizeKb = kb;
                    break;
            }
        }

        if (records == 0)
        {
            throw new ProcParseException(source, 0, "no mappings (empty file)");
        }

        if (records == 1)
        {
            firstHadVmFlags = sawVmFlags;
        }

        CheckRecord(content, source, recordLine, pending, sawRss, sawVmFlags, firstHadVmFlags, sizeKb);
        table.Add(pending, resident, proportional, swap, flags);
    }

    /// <summary>
    /// Bit masks of the newlines and colons of the 32 bytes at <paramref name="at"/>; a NUL among them throws (binary
    /// input). Two 16-byte loads: SSE2 and AdvSimd, the baselines of both architectures, have them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Window(ReadOnlySpan<byte> content, ref byte text, int at, string source, out uint newlines, out uint colons)
    {
        Vector128<byte> low = Vector128.LoadUnsafe(ref text, (nuint)at);
        Vector128<byte> high = Vector128.LoadUnsafe(ref text, (nuint)at + 16);
        newlines = Vector128.Equals(low, Vector128.Create((byte)'\n')).ExtractMostSignificantBits()
            | (Vector128.Equals(high, Vector128.Create((byte)'\n')).ExtractMostSignificantBits() << 16);
        colons = Vector128.Equals(low, Vector128.Create((byte)':')).ExtractMostSignificantBits()
            | (Vector128.Equals(high, Vector128.Create((byte)':')).ExtractMostSignificantBits() << 16);
        if (Vector128.EqualsAny(Vector128.Min(low, high), Vector128<byte>.Zero))
        {
            throw Binary(content, source);
        }
    }

    /// <summary>The bit mask of the bytes equal to <paramref name="value"/> among the 32 at <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mask(ref byte text, int at, byte value) =>
        Vector128.Equals(Vector128.LoadUnsafe(ref text, (nuint)at), Vector128.Create(value)).ExtractMostSignificantBits()
        | (Vector128.Equals(Vector128.LoadUnsafe(ref text, (nuint)at + 16), Vector128.Create(value)).ExtractMostSignificantBits() << 16);

    /// <summary>
    /// The rest of a line from <paramref name="at"/> (its start, or past the 32 bytes already looked at, which held no
    /// newline and their first ':' at <paramref name="colonSoFar"/>, or -1): its end and first ':'.
    /// </summary>
    private static int LongLine(ReadOnlySpan<byte> content, string source, int at, int colonSoFar, out int colon)
    {
        // Newline, NUL and ':' from the same 32-byte loads (mostly headers, 50 to 120 bytes): one pass, not three.
        ref byte text = ref MemoryMarshal.GetReference(content);
        int lastWindow = content.Length - Vector256<byte>.Count;
        colon = colonSoFar;
        while (at <= lastWindow)
        {
            Window(content, ref text, at, source, out uint newlines, out uint colons);

            if (newlines != 0)
            {
                colons &= newlines ^ (newlines - 1);
            }

            if (colon < 0 && colons != 0)
            {
                colon = at + BitOperations.TrailingZeroCount(colons);
            }

            if (newlines != 0)
            {
                return at + BitOperations.TrailingZeroCount(newlines);
            }

            at += Vector256<byte>.Count;
        }

        ReadOnlySpan<byte> rest = content[at..];
        int newline = rest.IndexOf((byte)'\n');
        ReadOnlySpan<byte> line = newline < 0 ? rest : rest[..newline];
        if (line.Contains((byte)0))
        {
            throw Binary(content, source);
        }

        if (colon < 0)
        {
            int found = line.IndexOf((byte)':');
            colon = found < 0 ? -1 : at + found;
        }

        return at + line.Length;
    }

    /// <summary>A size value the digit loop did not take: as <see cref="Utf8Parser"/> reads it, else the error.</summary>
    private static long ParseSize(ReadOnlySpan<byte> content, string source, int lineNumber, ReadOnlySpan<byte> value)
    {
        if (!Utf8Parser.TryParse(value, out long kb, out int consumed) || kb < 0 || !value[consumed..].SequenceEqual(" kB"u8))
        {
            throw Error(content, source, lineNumber, "expected a size like '132 kB'");
        }

        return kb;
    }

    private static void CheckRecord(ReadOnlySpan<byte> content, string source, int recordLine, in Mapping record, bool sawRss, bool sawVmFlags, bool firstHadVmFlags, long sizeKb)
    {
        // VmFlags is the last field the kernel prints: missing on the last record means the dump was cut.
        if (!sawRss || (firstHadVmFlags && !sawVmFlags))
        {
            throw Error(content, source, recordLine, "mapping has no Rss or VmFlags field: the smaps text is truncated or not smaps");
        }

        if (sizeKb >= 0 && (ulong)sizeKb * 1024 != record.Size)
        {
            throw Error(content, source, recordLine, $"Size: {sizeKb} kB does not match the address range ({record.Size / 1024} kB)");
        }
    }

    /// <summary>
    /// A parse error at a line, unless the input holds a NUL byte anywhere: binary input is refused as such whatever
    /// else is wrong with it, as if it had been tested before parsing (the parse finds NULs while it splits lines,
    /// which saves a pass over the whole text).
    /// </summary>
    private static ProcParseException Error(ReadOnlySpan<byte> content, string source, int lineNumber, string message)
    {
        DumpFormatDetector.ThrowIfNotText(content, source);
        return new ProcParseException(source, lineNumber, message);
    }

    /// <summary>The error for a NUL byte found in <paramref name="content"/>.</summary>
    private static ProcParseException Binary(ReadOnlySpan<byte> content, string source)
    {
        DumpFormatDetector.ThrowIfNotText(content, source);
        throw new UnreachableException("a NUL byte was found in the content");
    }

    // The VmFlags names kept, by a hash of their two bytes that gives each its own slot of 16 ("ac" = 0x6163).
    private const uint FlagHashMultiplier = 91;

    private static ReadOnlySpan<ushort> FlagNames =>
        [0x7364, 0x6867, 0x6874, 0x6e68, 0x6e72, 0, 0, 0, 0x6c6f, 0x6163, 0x6464, 0, 0x6764, 0, 0, 0];

    private static ReadOnlySpan<ushort> FlagValues =>
    [
        (ushort)VmFlags.SoftDirty, (ushort)VmFlags.HugePage, (ushort)VmFlags.HugeTlb, (ushort)VmFlags.NoHugePage, (ushort)VmFlags.NoReserve, 0, 0, 0,
        (ushort)VmFlags.Locked, (ushort)VmFlags.Accountable, (ushort)VmFlags.DontDump, 0, (ushort)VmFlags.GrowsDown, 0, 0, 0,
    ];

    public static VmFlags ParseVmFlags(ReadOnlySpan<byte> value)
    {
        // Two-letter names separated by spaces ("rd wr mr mw me ac sd "): the first two bytes of each word decide.
        VmFlags flags = VmFlags.Known;
        int i = 0;
        while (true)
        {
            while (i < value.Length && value[i] == (byte)' ')
            {
                i++;
            }

            if (value.Length - i < 2)
            {
                return flags;
            }

            // A table lookup, not a switch: the names vary word to word, and a switch's branches are mispredicted.
            uint name = (uint)((value[i] << 8) | value[i + 1]);
            int slot = (int)(((name * FlagHashMultiplier) & 0xffff) >> 12);
            flags |= (VmFlags)(FlagNames[slot] == name ? FlagValues[slot] : 0);

            // On to the space after the word: a one-letter word's is its second byte (found by a mutation test; the
            // word after it was skipped).
            i++;
            while (i < value.Length && value[i] != (byte)' ')
            {
                i++;
            }
        }
    }
}
