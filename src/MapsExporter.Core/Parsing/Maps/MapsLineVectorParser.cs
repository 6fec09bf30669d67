using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MapsExporter.Core.Parsing.Maps;

/// <summary>
/// A maps line as the kernel prints it, read from four 16-byte loads (SSE2 and AdvSimd; the conversion needs a
/// byte table lookup, <see cref="ByteTableLookup"/>): the hex and decimal digit masks of its
/// first 64 bytes give every field's place at once, so the fields no longer wait on each other, and the addresses
/// and offset are converted in vector registers. Where a line is not in that form (a field longer than the masks
/// show, a device number of more digits than the kernel prints, an address range the other way round), it answers
/// nothing and <see cref="MapsLineParser.TryParse(ReadOnlySpan{byte}, MappingTable, out Mapping)"/> reads the line, errors included.
/// </summary>
internal static class MapsLineVectorParser
{
    /// <summary>Bytes from the line's start that must be readable (the line and what follows it).</summary>
    public const int ReadableBytes = 64;

    /// <summary>
    /// Reads the line of <paramref name="length"/> bytes at <paramref name="start"/> of <paramref name="text"/>, which
    /// has <see cref="ReadableBytes"/> readable bytes there; false when it is not in the kernel's form.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, int start, int length, MappingTable table, out Mapping mapping)
    {
        mapping = default;
        if (!ByteTableLookup.IsSupported)
        {
            return false;
        }

        ref byte line = ref Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(text), start);
        ulong hex = 0, decimalDigits = 0;
        for (int block = 0; block < ReadableBytes; block += 16)
        {
            Vector128<byte> bytes = Vector128.LoadUnsafe(ref line, (nuint)block);
            hex |= (ulong)HexMask(bytes) << block;
            decimalDigits |= (ulong)DecimalMask(bytes) << block;
        }

        ulong inLine = length >= 64 ? ulong.MaxValue : (1UL << length) - 1;
        hex &= inLine;
        decimalDigits &= inLine;

        // start-end perms offset major:minor inode: each field's digits end where the mask does; all within the line.
        int startDigits = Run(hex, 0);
        int endAt = startDigits + 1;
        int endDigits = Run(hex, endAt);
        int permsAt = endAt + endDigits + 1;
        int offsetAt = permsAt + 5;
        int offsetDigits = Run(hex, offsetAt);
        int majorAt = offsetAt + offsetDigits + 1;
        int majorDigits = Run(hex, majorAt);
        int minorAt = majorAt + majorDigits + 1;
        int minorDigits = Run(hex, minorAt);
        int inodeAt = minorAt + minorDigits + 1;
        int inodeDigits = Run(decimalDigits, inodeAt);
        int inodeEnd = inodeAt + inodeDigits;
        if (startDigits is 0 or > 16 || endDigits is 0 or > 16 || offsetDigits is 0 or > 16 || majorDigits is 0 or > 3 || minorDigits is 0 or > 5
            || inodeDigits is 0 or > 16 || inodeEnd >= ReadableBytes || inodeEnd > length)
        {
            return false;
        }

        ReadOnlySpan<byte> fields = text.Slice(start, length);
        if (fields[startDigits] != (byte)'-' || fields[permsAt - 1] != (byte)' ' || fields[offsetAt - 1] != (byte)' ' || fields[majorAt - 1] != (byte)' '
            || fields[minorAt - 1] != (byte)':' || fields[inodeAt - 1] != (byte)' ' || (inodeEnd < length && fields[inodeEnd] != (byte)' ')
            || !MapsLineParser.TryParsePermissions(fields.Slice(permsAt, 4), out Permissions perms))
        {
            return false;
        }

        ulong startAddress = HexValue(Vector128.LoadUnsafe(ref line), startDigits);
        ulong endAddress = HexValue(Vector128.LoadUnsafe(ref line, (nuint)endAt), endDigits);
        if (endAddress < startAddress)
        {
            return false;
        }

        ulong offset = HexValue(Vector128.LoadUnsafe(ref line, (nuint)offsetAt), offsetDigits);

        ulong major = SmallHex(fields.Slice(majorAt, majorDigits));
        ulong minor = SmallHex(fields.Slice(minorAt, minorDigits));
        ulong inode = 0;
        foreach (byte digit in fields.Slice(inodeAt, inodeDigits))
        {
            inode = (inode * 10) + (uint)(digit - '0');
        }

        ReadOnlySpan<byte> rest = inodeEnd < length ? fields[(inodeEnd + 1)..] : [];
        mapping = MapsLineParser.WithPath(startAddress, endAddress, perms, offset, major, minor, inode, rest, table);
        return true;
    }

    /// <summary>How many set bits from <paramref name="at"/> up (the digits of a field starting there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Run(ulong mask, int at) => at >= 64 ? 0 : BitOperations.TrailingZeroCount(~(mask >> at));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint HexMask(Vector128<byte> text) =>
        (Vector128.LessThanOrEqual(text - Vector128.Create((byte)'0'), Vector128.Create((byte)9))
        | Vector128.LessThanOrEqual(text - Vector128.Create((byte)'a'), Vector128.Create((byte)5))).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint DecimalMask(Vector128<byte> text) =>
        Vector128.LessThanOrEqual(text - Vector128.Create((byte)'0'), Vector128.Create((byte)9)).ExtractMostSignificantBits();

    /// <summary>
    /// The number the first <paramref name="digits"/> hex digits (lowercase, already checked) of <paramref name="text"/>
    /// write: right-aligned by a table lookup (zeros before), pairs of digits to bytes, read big-endian.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HexValue(Vector128<byte> text, int digits)
    {
        Vector128<byte> letter = Vector128.LessThanOrEqual(text - Vector128.Create((byte)'a'), Vector128.Create((byte)5));
        Vector128<byte> values = text - Vector128.Create((byte)'0') - (letter & Vector128.Create((byte)('a' - '0' - 10)));
        Vector128<ushort> aligned = ByteTableLookup.Lookup(values, Vector128<byte>.Indices + Vector128.Create((byte)(digits - 16))).AsUInt16();
        // Each 16-bit lane: its low byte (the more significant digit) times 16, plus its high byte.
        Vector128<ushort> pairs = ((aligned << 4) & Vector128.Create((ushort)0x00f0)) | (aligned >>> 8);
        return BinaryPrimitives.ReverseEndianness(Vector128.Narrow(pairs, pairs).AsUInt64().GetElement(0));
    }

    private static ulong SmallHex(ReadOnlySpan<byte> digits)
    {
        ulong value = 0;
        foreach (byte digit in digits)
        {
            value = (value << 4) | (uint)(digit <= '9' ? digit - '0' : digit - 'a' + 10);
        }

        return value;
    }
}
