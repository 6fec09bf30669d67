using System.Buffers.Text;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Core.Parsing.Maps;

/// <summary>
/// Parses one maps line (<c>start-end perms offset major:minor inode   path</c>), the format maps and
/// the header lines of smaps share. Works on UTF-8 bytes; allocates only for a path not seen before.
/// </summary>
public static class MapsLineParser
{
    /// <summary>Paths longer than this are cut: the kernel itself limits them to PATH_MAX.</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>Quick test: a header line starts with a lowercase hex address followed by '-'.</summary>
    public static bool LooksLikeHeader(ReadOnlySpan<byte> line)
    {
        // The first '-' at 1 to 16 with only hex digits before it: a scan of at most 17 bytes, not a search of the line.
        if (line.Length > 16)
        {
            // The first 16 bytes' hex digits from one load: the first byte that is not one must be a '-' after at least one.
            Vector128<byte> head = Vector128.Create(line);
            Vector128<byte> hex = ByteRange.Digits(head) | ByteRange.HexLetters(head);
            int first = BitOperations.TrailingZeroCount(~hex.ExtractMostSignificantBits());
            return first > 0 && line[first] == (byte)'-';
        }

        int limit = Math.Min(line.Length, 17);
        for (int i = 0; i < limit; i++)
        {
            byte b = line[i];
            if (b == (byte)'-')
            {
                return i > 0;
            }

            if (!IsHexDigit(b))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// Parses the line of <paramref name="length"/> bytes (without its newline) at <paramref name="start"/> of
    /// <paramref name="text"/>: by <see cref="MapsLineVectorParser"/> where 64 bytes from its start can be read, else
    /// (or where that reader declines) by <see cref="TryParse(ReadOnlySpan{byte}, MappingTable, out Mapping)"/>.
    /// </summary>
    internal static string? TryParse(ReadOnlySpan<byte> text, int start, int length, MappingTable table, out Mapping mapping)
    {
        if (start <= text.Length - MapsLineVectorParser.ReadableBytes && MapsLineVectorParser.TryParse(text, start, length, table, out mapping))
        {
            return null;
        }

        return TryParse(text.Slice(start, length), table, out mapping);
    }

    /// <summary>Parses <paramref name="line"/> (without its newline); returns null when it parses, else what is wrong.</summary>
    public static string? TryParse(ReadOnlySpan<byte> line, MappingTable table, out Mapping mapping)
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

        // Up to 19 plain digits ended by a space or the line's end here; anything else as Utf8Parser reads it.
        ulong inode = 0;
        int inodeEnd = 0;
        while (inodeEnd < rest.Length && (uint)(rest[inodeEnd] - '0') <= 9)
        {
            inode = (inode * 10) + (uint)(rest[inodeEnd] - '0');
            inodeEnd++;
        }

        if (inodeEnd == rest.Length && inodeEnd is > 0 and <= 19)
        {
            inodeEnd = -1;
        }
        else if (inodeEnd == 0 || inodeEnd > 19 || rest[inodeEnd] != (byte)' ')
        {
            inodeEnd = rest.IndexOf((byte)' ');
            ReadOnlySpan<byte> inodeText = inodeEnd < 0 ? rest : rest[..inodeEnd];
            if (!Utf8Parser.TryParse(inodeText, out inode, out int consumed) || consumed != inodeText.Length)
            {
                return "expected an inode number";
            }
        }

        rest = inodeEnd < 0 ? [] : rest[(inodeEnd + 1)..];
        mapping = WithPath(start, end, perms, offset, major, minor, inode, rest, table);
        return null;
    }

    /// <summary>The mapping, given its fields and what follows the inode's space (the padding and the path, or nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Mapping WithPath(ulong start, ulong end, Permissions perms, ulong offset, ulong major, ulong minor, ulong inode, ReadOnlySpan<byte> rest, MappingTable table)
    {
        // The kernel pads the path to column 73: a vector search, not a byte loop.
        int path = rest.IndexOfAnyExcept((byte)' ');
        rest = path < 0 ? [] : rest[path..];
        if (rest.Length > MaxPathBytes)
        {
            rest = rest[..MaxPathBytes];
        }

        MappingKind kind = ClassifyPath(rest, inode);
        int pathId = rest.IsEmpty ? -1 : table.InternPath(rest);
        return new Mapping(start, end, perms, offset, (uint)((major << 20) | minor), inode, kind, pathId, -1, -1, -1, VmFlags.None);
    }

    private static MappingKind ClassifyPath(ReadOnlySpan<byte> path, ulong inode)
    {
        if (path.IsEmpty)
        {
            return MappingKind.Anonymous;
        }

        if (path[0] == (byte)'[')
        {
            return path switch
            {
                _ when path.SequenceEqual("[heap]"u8) => MappingKind.Heap,
                _ when path.SequenceEqual("[stack]"u8) => MappingKind.Stack,
                _ when path.SequenceEqual("[vdso]"u8) || path.SequenceEqual("[vvar]"u8) || path.SequenceEqual("[vvar_vclock]"u8)
                    || path.SequenceEqual("[vsyscall]"u8) || path.SequenceEqual("[uprobes]"u8) => MappingKind.Kernel,
                _ => MappingKind.NamedAnonymous,
            };
        }

        // Anything else with a name is backed by a file, including "/memfd:x (deleted)" and "/SYSV0000 (deleted)".
        return inode != 0 || path[0] == (byte)'/' ? MappingKind.File : MappingKind.NamedAnonymous;
    }

    internal static bool TryParsePermissions(ReadOnlySpan<byte> text, out Permissions perms)
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
        // Digits from a table (0xff: not a lowercase hex digit), not by range tests: addresses mix digits and letters
        // at random, and a branch on which one it is would be mispredicted on about every other byte.
        value = 0;
        int end = 0;
        ReadOnlySpan<byte> hexValues = HexValues;
        while (end < rest.Length)
        {
            uint digit = hexValues[rest[end]];
            if (digit > 15)
            {
                break;
            }

            value = (value << 4) | digit;
            end++;
        }

        if (end == 0 || end > 16 || end == rest.Length || rest[end] != terminator)
        {
            value = 0;
            return false;
        }

        rest = rest[(end + 1)..];
        return true;
    }

    private static ReadOnlySpan<byte> HexValues =>
    [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 10, 11, 12, 13, 14, 15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ];

    private static bool IsHexDigit(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f';
}
