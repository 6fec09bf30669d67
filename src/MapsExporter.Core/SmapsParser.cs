using System.Buffers.Text;

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
        DumpFormatDetector.ThrowIfNotText(content, source);

        int lineNumber = 0;
        int recordLine = 0;
        ulong previousEnd = 0;
        bool sawRss = false, sawVmFlags = false, firstHadVmFlags = false;
        long sizeKb = -1;

        foreach (ReadOnlySpan<byte> line in new LineEnumerator(content))
        {
            lineNumber++;
            if (line.IsEmpty)
            {
                continue;
            }

            if (MapsLineParser.LooksLikeHeader(line))
            {
                if (table.Count > 0)
                {
                    CheckRecord(table, source, recordLine, sawRss, sawVmFlags, firstHadVmFlags, sizeKb);
                }

                string? problem = MapsLineParser.TryParse(line, table, out Mapping mapping);
                if (problem is not null)
                {
                    throw new ProcParseException(source, lineNumber, problem);
                }

                if (mapping.Start < previousEnd)
                {
                    throw new ProcParseException(source, lineNumber, "mappings out of address order or overlapping");
                }

                if (table.Count == 1)
                {
                    firstHadVmFlags = sawVmFlags;
                }

                previousEnd = mapping.End;
                table.Add(mapping with { ResidentBytes = 0, ProportionalBytes = 0, SwapBytes = 0 });
                recordLine = lineNumber;
                sawRss = sawVmFlags = false;
                sizeKb = -1;
                continue;
            }

            if (table.Count == 0)
            {
                throw new ProcParseException(source, lineNumber, "expected a mapping line like '7f00-7f10 rw-p 0 00:00 0'");
            }

            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new ProcParseException(source, lineNumber, "expected a 'Field: value' line");
            }

            ReadOnlySpan<byte> key = line[..colon];
            ReadOnlySpan<byte> value = line[(colon + 1)..].TrimStart((byte)' ');
            ref Mapping last = ref table.Last;
            if (key.SequenceEqual("VmFlags"u8))
            {
                last = last with { Flags = ParseVmFlags(value) };
                sawVmFlags = true;
                continue;
            }

            bool wanted = key.SequenceEqual("Rss"u8) || key.SequenceEqual("Pss"u8) || key.SequenceEqual("Swap"u8) || key.SequenceEqual("Size"u8);
            if (!wanted)
            {
                continue;
            }

            if (!Utf8Parser.TryParse(value, out long kb, out int consumed) || kb < 0 || !value[consumed..].SequenceEqual(" kB"u8))
            {
                throw new ProcParseException(source, lineNumber, "expected a size like '132 kB'");
            }

            // No mapping holds more than the 57-bit (5-level paging) address space; a bigger value is corrupt input,
            // and would overflow kb * 1024 (found by fuzzing: OverflowException escaped the report).
            if (kb > MaxSizeKb)
            {
                throw new ProcParseException(source, lineNumber, $"size {kb} kB is larger than the address space");
            }

            long bytes = kb * 1024;
            switch (key[0])
            {
                case (byte)'R':
                    last = last with { ResidentBytes = bytes };
                    sawRss = true;
                    break;
                case (byte)'P':
                    last = last with { ProportionalBytes = bytes };
                    break;
                case (byte)'S' when key[1] == (byte)'w':
                    last = last with { SwapBytes = bytes };
                    break;
                default:
                    sizeKb = kb;
                    break;
            }
        }

        if (table.Count == 0)
        {
            throw new ProcParseException(source, 0, "no mappings (empty file)");
        }

        if (table.Count == 1)
        {
            firstHadVmFlags = sawVmFlags;
        }

        CheckRecord(table, source, recordLine, sawRss, sawVmFlags, firstHadVmFlags, sizeKb);
    }

    private static void CheckRecord(MappingTable table, string source, int recordLine, bool sawRss, bool sawVmFlags, bool firstHadVmFlags, long sizeKb)
    {
        // VmFlags is the last field the kernel prints: missing on the last record means the dump was cut.
        if (!sawRss || (firstHadVmFlags && !sawVmFlags))
        {
            throw new ProcParseException(source, recordLine, "mapping has no Rss or VmFlags field: the smaps text is truncated or not smaps");
        }

        ref Mapping last = ref table.Last;
        if (sizeKb >= 0 && (ulong)sizeKb * 1024 != last.Size)
        {
            throw new ProcParseException(source, recordLine, $"Size: {sizeKb} kB does not match the address range ({last.Size / 1024} kB)");
        }
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
