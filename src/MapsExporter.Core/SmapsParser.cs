using System.Buffers.Text;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace MapsExporter.Core;

/// <summary>
/// Parses a whole <c>/proc/PID/smaps</c> file (or a dump of one): each mapping's header line followed by
/// its fields. Keeps Size, Rss, Pss, Swap and VmFlags; ignores fields it does not know, so newer kernels parse.
/// </summary>
public static class SmapsParser
{
    /// <summary>2^57 bytes, the user address space with 5-level paging, in kB.</summary>
    public const long MaxSizeKb = 1L << 47;

    public static void Parse(ReadOnlySpan<byte> content, MappingTable table, string source)
    {
        table.Clear();
        table.HasSmapsFields = true;

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

        var lines = new LineIndex(content, source);
        while (lines.MoveNext(out int start, out int end, out int colon))
        {
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
                    table.Add(pending with { ResidentBytes = resident, ProportionalBytes = proportional, SwapBytes = swap, Flags = flags });
                }

                string? problem = MapsLineParser.TryParse(line, table, out Mapping mapping);
                if (problem is not null)
                {
                    throw Error(content, source, lineNumber, problem);
                }

                if (mapping.Start < previousEnd)
                {
                    throw Error(content, source, lineNumber, "mappings out of address order or overlapping");
                }

                if (records == 1)
                {
                    firstHadVmFlags = sawVmFlags;
                }

                previousEnd = mapping.End;
                pending = mapping;
                records++;
                resident = proportional = swap = 0;
                flags = VmFlags.None;
                recordLine = lineNumber;
                sawRss = sawVmFlags = false;
                sizeKb = -1;
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
            ReadOnlySpan<byte> key = line[..colon];
            Field field = key.Length switch
            {
                3 when key.SequenceEqual("Rss"u8) => Field.Rss,
                3 when key.SequenceEqual("Pss"u8) => Field.Pss,
                4 when key.SequenceEqual("Size"u8) => Field.Size,
                4 when key.SequenceEqual("Swap"u8) => Field.Swap,
                7 when key.SequenceEqual("VmFlags"u8) => Field.VmFlags,
                _ => Field.Other,
            };
            if (field == Field.Other)
            {
                continue;
            }

            // The kernel pads keys to 16 columns and values to 8: skip the spaces vectorised, not byte by byte.
            ReadOnlySpan<byte> value = line[(colon + 1)..];
            int digits = value.IndexOfAnyExcept((byte)' ');
            value = digits < 0 ? [] : value[digits..];
            if (field == Field.VmFlags)
            {
                flags = ParseVmFlags(value);
                sawVmFlags = true;
                continue;
            }

            if (!Utf8Parser.TryParse(value, out long kb, out int consumed) || kb < 0 || !value[consumed..].SequenceEqual(" kB"u8))
            {
                throw Error(content, source, lineNumber, "expected a size like '132 kB'");
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
                case Field.Rss:
                    resident = bytes;
                    sawRss = true;
                    break;
                case Field.Pss:
                    proportional = bytes;
                    break;
                case Field.Swap:
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
        table.Add(pending with { ResidentBytes = resident, ProportionalBytes = proportional, SwapBytes = swap, Flags = flags });
    }

    private enum Field : byte
    {
        Other,
        Size,
        Rss,
        Pss,
        Swap,
        VmFlags,
    }

    /// <summary>
    /// Splits the text into lines and finds each line's first ':' from bit masks of 64-byte blocks: the loads do not
    /// wait on the previous line's end, as a search line by line does. A NUL byte anywhere throws (binary input).
    /// </summary>
    private ref struct LineIndex
    {
        private const int BlockSize = 64;
        private readonly ReadOnlySpan<byte> _content;
        private readonly string _source;
        private int _block;
        private ulong _newlines;
        private ulong _colons;
        private int _lineStart;
        private int _firstColon;

        public LineIndex(ReadOnlySpan<byte> content, string source)
        {
            _content = content;
            _source = source;
            _firstColon = -1;
            LoadBlock();
        }

        /// <summary>The next line, <paramref name="start"/> to <paramref name="end"/> (its newline or the end of the text), and its first ':' or -1.</summary>
        public bool MoveNext(out int start, out int end, out int colon)
        {
            while (_newlines == 0)
            {
                // The line goes on past this block.
                if (_firstColon < 0)
                {
                    ulong colons = _colons & From(_lineStart - _block);
                    if (colons != 0)
                    {
                        _firstColon = _block + BitOperations.TrailingZeroCount(colons);
                    }
                }

                _block += BlockSize;
                if (_block >= _content.Length)
                {
                    // A last line without a newline.
                    start = _lineStart;
                    end = _content.Length;
                    colon = _firstColon;
                    _lineStart = _content.Length;
                    _firstColon = -1;
                    return start < end;
                }

                LoadBlock();
            }

            int offset = BitOperations.TrailingZeroCount(_newlines);
            _newlines &= _newlines - 1;
            start = _lineStart;
            end = _block + offset;
            colon = _firstColon;
            if (colon < 0)
            {
                ulong colons = _colons & From(start - _block) & ((1UL << offset) - 1);
                colon = colons == 0 ? -1 : _block + BitOperations.TrailingZeroCount(colons);
            }

            _lineStart = end + 1;
            _firstColon = -1;
            return true;
        }

        // The bits at and above `offset` (an offset before the block: all of them).
        private static ulong From(int offset) => offset <= 0 ? ulong.MaxValue : offset >= BlockSize ? 0 : ulong.MaxValue << offset;

        private void LoadBlock()
        {
            ReadOnlySpan<byte> rest = _content[Math.Min(_block, _content.Length)..];
            ulong nuls;
            if (rest.Length >= BlockSize)
            {
                Vector256<byte> low = Vector256.Create(rest);
                Vector256<byte> high = Vector256.Create(rest[Vector256<byte>.Count..]);
                _newlines = Mask(low, high, (byte)'\n');
                _colons = Mask(low, high, (byte)':');
                nuls = Mask(low, high, 0);
            }
            else
            {
                _newlines = _colons = nuls = 0;
                for (int i = 0; i < rest.Length; i++)
                {
                    ulong bit = 1UL << i;
                    _newlines |= rest[i] == (byte)'\n' ? bit : 0;
                    _colons |= rest[i] == (byte)':' ? bit : 0;
                    nuls |= rest[i] == 0 ? bit : 0;
                }
            }

            if (nuls != 0)
            {
                throw Binary(_content, _source);
            }
        }

        private static ulong Mask(Vector256<byte> low, Vector256<byte> high, byte value) =>
            Vector256.Equals(low, Vector256.Create(value)).ExtractMostSignificantBits()
            | ((ulong)Vector256.Equals(high, Vector256.Create(value)).ExtractMostSignificantBits() << 32);
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

    public static VmFlags ParseVmFlags(ReadOnlySpan<byte> value)
    {
        VmFlags flags = VmFlags.Known;
        while (!value.IsEmpty)
        {
            value = value.TrimStart((byte)' ');
            if (value.Length < 2)
            {
                break;
            }

            flags |= (value[0], value[1]) switch
            {
                ((byte)'a', (byte)'c') => VmFlags.Accountable,
                ((byte)'n', (byte)'r') => VmFlags.NoReserve,
                ((byte)'n', (byte)'h') => VmFlags.NoHugePage,
                ((byte)'g', (byte)'d') => VmFlags.GrowsDown,
                ((byte)'s', (byte)'d') => VmFlags.SoftDirty,
                ((byte)'h', (byte)'g') => VmFlags.HugePage,
                ((byte)'h', (byte)'t') => VmFlags.HugeTlb,
                ((byte)'d', (byte)'d') => VmFlags.DontDump,
                ((byte)'l', (byte)'o') => VmFlags.Locked,
                _ => VmFlags.None,
            };
            int space = value.IndexOf((byte)' ');
            value = space < 0 ? [] : value[space..];
        }

        return flags;
    }
}
