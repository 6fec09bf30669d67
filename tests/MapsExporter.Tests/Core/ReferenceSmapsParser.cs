using System.Buffers.Text;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Tests.Core;

/// <summary>
/// SmapsParser as it was before it was made fast (commit d732aa2): a line at a time, every line tested for a header,
/// keys compared one after another, the Mapping copied per field. Kept as the oracle the fast parser must equal, on
/// good input and bad (the same mappings, or the same error message). Mappings go to a list (MappingTable.Add is
/// internal to Core); paths go to the list passed in, their index the path id (ReferenceMapsLineParser).
/// </summary>
internal static class ReferenceSmapsParser
{
    public static List<Mapping> Parse(ReadOnlySpan<byte> content, List<string> paths, string source)
    {
        var result = new List<Mapping>();
        paths.Clear();
        if (content.IndexOf((byte)0) >= 0)
        {
            throw new ProcParseException(source, 0, "binary data, not a maps or smaps dump");
        }

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

            if (LooksLikeHeader(line))
            {
                if (result.Count > 0)
                {
                    CheckRecord(result, source, recordLine, sawRss, sawVmFlags, firstHadVmFlags, sizeKb);
                }

                string? problem = ReferenceMapsLineParser.TryParse(line, paths, out Mapping mapping);
                if (problem is not null)
                {
                    throw new ProcParseException(source, lineNumber, problem);
                }

                if (mapping.Start < previousEnd)
                {
                    throw new ProcParseException(source, lineNumber, "mappings out of address order or overlapping");
                }

                if (result.Count == 1)
                {
                    firstHadVmFlags = sawVmFlags;
                }

                previousEnd = mapping.End;
                result.Add(mapping with { ResidentBytes = 0, ProportionalBytes = 0, SwapBytes = 0 });
                recordLine = lineNumber;
                sawRss = sawVmFlags = false;
                sizeKb = -1;
                continue;
            }

            if (result.Count == 0)
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
            Mapping last = result[^1];
            if (key.SequenceEqual("VmFlags"u8))
            {
                result[^1] = last with { Flags = ParseVmFlags(value) };
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

            if (kb > SmapsParser.MaxSizeKb)
            {
                throw new ProcParseException(source, lineNumber, $"size {kb} kB is larger than the address space");
            }

            long bytes = kb * 1024;
            result[^1] = key[0] switch
            {
                (byte)'R' => last with { ResidentBytes = bytes },
                (byte)'P' => last with { ProportionalBytes = bytes },
                (byte)'S' when key[1] == (byte)'w' => last with { SwapBytes = bytes },
                _ => last,
            };
            sawRss |= key[0] == (byte)'R';
            if (key[0] == (byte)'S' && key[1] == (byte)'i')
            {
                sizeKb = kb;
            }
        }

        if (result.Count == 0)
        {
            throw new ProcParseException(source, 0, "no mappings (empty file)");
        }

        if (result.Count == 1)
        {
            firstHadVmFlags = sawVmFlags;
        }

        CheckRecord(result, source, recordLine, sawRss, sawVmFlags, firstHadVmFlags, sizeKb);
        return result;
    }

    private static void CheckRecord(List<Mapping> result, string source, int recordLine, bool sawRss, bool sawVmFlags, bool firstHadVmFlags, long sizeKb)
    {
        if (!sawRss || (firstHadVmFlags && !sawVmFlags))
        {
            throw new ProcParseException(source, recordLine, "mapping has no Rss or VmFlags field: the smaps text is truncated or not smaps");
        }

        Mapping last = result[^1];
        if (sizeKb >= 0 && (ulong)sizeKb * 1024 != last.Size)
        {
            throw new ProcParseException(source, recordLine, $"Size: {sizeKb} kB does not match the address range ({last.Size / 1024} kB)");
        }
    }

    // MapsLineParser.LooksLikeHeader as it was.
    private static bool LooksLikeHeader(ReadOnlySpan<byte> line)
    {
        int dash = line.IndexOf((byte)'-');
        if (dash <= 0 || dash > 16)
        {
            return false;
        }

        foreach (byte b in line[..dash])
        {
            if (b is not (>= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f'))
            {
                return false;
            }
        }

        return true;
    }

    // SmapsParser.ParseVmFlags as it was.
    private static VmFlags ParseVmFlags(ReadOnlySpan<byte> value)
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
