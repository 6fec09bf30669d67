using System.Buffers.Text;
using System.Text;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Tests.Core;

/// <summary>
/// MapsLineParser.TryParse and MappingTable.InternPath as they were before the header line was made fast (inode read
/// by Utf8Parser after a search for its end, every path decoded and looked up): the oracle for
/// <see cref="ReferenceSmapsParser"/>. Paths go to a list, their index the path id. A mapping's kind is not the
/// parser's rule copied but <see cref="MappingKindOracle"/>'s, the kernel's rules applied to the line's text.
/// </summary>
internal static class ReferenceMapsLineParser
{
    /// <summary>Parses <paramref name="line"/> (without its newline); returns null when it parses, else what is wrong.</summary>
    public static string? TryParse(ReadOnlySpan<byte> line, List<string> paths, out Mapping mapping)
    {
        mapping = default;
        ReadOnlySpan<byte> rest = line;

        if (!TakeHex(ref rest, (byte)'-', out ulong start))
        {
            return "expected a start address";
        }

        if (!TakeHex(ref rest, (byte)' ', out ulong end))
        {
            return "expected an end address";
        }

        if (end < start)
        {
            return "end address below start address";
        }

        if (rest.Length < 5 || rest[4] != (byte)' ' || !TryParsePermissions(rest[..4], out Permissions perms))
        {
            return "expected permissions like rw-p";
        }

        rest = rest[5..];
        if (!TakeHex(ref rest, (byte)' ', out ulong offset))
        {
            return "expected a file offset";
        }

        if (!TakeHex(ref rest, (byte)':', out ulong major) || !TakeHex(ref rest, (byte)' ', out ulong minor) || major > 0xfff || minor > 0xfffff)
        {
            return "expected a device major:minor";
        }

        int inodeEnd = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> inodeText = inodeEnd < 0 ? rest : rest[..inodeEnd];
        if (!Utf8Parser.TryParse(inodeText, out ulong inode, out int consumed) || consumed != inodeText.Length)
        {
            return "expected an inode number";
        }

        rest = inodeEnd < 0 ? [] : rest[(inodeEnd + 1)..];
        rest = rest.TrimStart((byte)' ');
        if (rest.Length > MapsLineParser.MaxPathBytes)
        {
            rest = rest[..MapsLineParser.MaxPathBytes];
        }

        // The kind from the kernel's rules applied to the line's text, not from a copy of the parser's own test.
        MappingKind kind = MappingKindOracle.Classify(Encoding.UTF8.GetString(line)).Kind;
        int pathId = rest.IsEmpty ? -1 : InternPath(rest, paths);
        mapping = new Mapping(start, end, perms, offset, (uint)((major << 20) | minor), inode, kind, pathId, -1, -1, -1, VmFlags.None);
        return null;
    }

    private static bool TryParsePermissions(ReadOnlySpan<byte> text, out Permissions perms)
    {
        perms = Permissions.None;
        if ((text[0] != (byte)'r' && text[0] != (byte)'-') || (text[1] != (byte)'w' && text[1] != (byte)'-')
            || (text[2] != (byte)'x' && text[2] != (byte)'-') || (text[3] != (byte)'p' && text[3] != (byte)'s'))
        {
            return false;
        }

        if (text[0] == (byte)'r')
        {
            perms |= Permissions.Read;
        }

        if (text[1] == (byte)'w')
        {
            perms |= Permissions.Write;
        }

        if (text[2] == (byte)'x')
        {
            perms |= Permissions.Execute;
        }

        if (text[3] == (byte)'s')
        {
            perms |= Permissions.Shared;
        }

        return true;
    }

    /// <summary>1 to 16 lowercase hex digits up to <paramref name="terminator"/>, validated and summed in one pass.</summary>
    private static bool TakeHex(ref ReadOnlySpan<byte> rest, byte terminator, out ulong value)
    {
        value = 0;
        int end = 0;
        for (; end < rest.Length && rest[end] != terminator; end++)
        {
            uint digit = (uint)(rest[end] - '0');
            if (digit > 9)
            {
                digit = (uint)(rest[end] - 'a');
                if (digit > 5 || end == 16)
                {
                    return false;
                }

                digit += 10;
            }
            else if (end == 16)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        if (end == 0 || end == rest.Length)
        {
            value = 0;
            return false;
        }

        rest = rest[(end + 1)..];
        return true;
    }

    // MappingTable.InternPath as it was: decoded, then looked up by the string (ids in order of first sight).
    private static int InternPath(ReadOnlySpan<byte> utf8, List<string> paths)
    {
        string path = Encoding.UTF8.GetString(utf8);
        int id = paths.IndexOf(path);
        if (id < 0)
        {
            id = paths.Count;
            paths.Add(path);
        }

        return id;
    }

    private static bool IsHexDigit(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f';
}
