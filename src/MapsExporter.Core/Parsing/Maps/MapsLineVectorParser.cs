using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MapsExporter.Core.Parsing.Maps;

/// <summary>
/// A maps line as the kernel prints it, read from two 32-byte loads (AVX2): the hex and decimal digit masks of its
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
        if (!Avx2.IsSupported)
        {
            return false;
        }

        ref byte line = ref Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(text), start);
        Vector256<byte> first = Vector256.LoadUnsafe(ref line);
        Vector256<byte> second = Vector256.LoadUnsafe(ref line, 32);
        ulong inLine = length >= 64 ? ulong.MaxValue : (1UL << length) - 1;
        ulong hex = (HexMask(first) | ((ulong)HexMask(second) << 32)) & inLine;
        ulong decimalDigits = (DecimalMask(first) | ((ulong)DecimalMask(second) << 32)) & inLine;

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

        // Both addresses in one register (the start in the low half, the end in the high), the offset in another.
        Vector256<byte> addresses = Vector256.Create(Vector128.LoadUnsafe(ref line), Vector128.LoadUnsafe(ref line, (nuint)endAt));
        Vector256<ulong> addressValues = HexValues(addresses, Vector256.Create(RightAlign(startDigits), RightAlign(endDigits)));
        ulong startAddress = BinaryPrimitives.ReverseEndianness(addressValues.GetElement(0));
        ulong endAddress = BinaryPrimitives.ReverseEndianness(addressValues.GetElement(2));
        if (endAddress < startAddress)
        {
            return false;
        }

        Vector256<byte> offsetText = Vector128.LoadUnsafe(ref line, (nuint)offsetAt).ToVector256Unsafe();
        ulong offset = BinaryPrimitives.ReverseEndianness(HexValues(offsetText, RightAlign(offsetDigits).ToVector256Unsafe()).GetElement(0));

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
    private static uint HexMask(Vector256<byte> text) =>
        (Vector256.LessThanOrEqual(text - Vector256.Create((byte)'0'), Vector256.Create((byte)9))
        | Vector256.LessThanOrEqual(text - Vector256.Create((byte)'a'), Vector256.Create((byte)5))).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint DecimalMask(Vector256<byte> text) =>
        Vector256.LessThanOrEqual(text - Vector256.Create((byte)'0'), Vector256.Create((byte)9)).ExtractMostSignificantBits();

    /// <summary>Shuffle indices that move the first <paramref name="digits"/> bytes to the end of 16, zeros before.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> RightAlign(int digits) => Vector128<byte>.Indices + Vector128.Create((byte)(digits - 16));

    /// <summary>
    /// Each 16-byte half's hex digits (lowercase, already checked) right-aligned by <paramref name="align"/>, as a
    /// big-endian number in the half's first 8 bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> HexValues(Vector256<byte> text, Vector256<byte> align)
    {
        Vector256<byte> letter = Vector256.LessThanOrEqual(text - Vector256.Create((byte)'a'), Vector256.Create((byte)5));
        Vector256<byte> digits = text - Vector256.Create((byte)'0') - (letter & Vector256.Create((byte)('a' - '0' - 10)));
        Vector256<short> pairs = Avx2.MultiplyAddAdjacent(Avx2.Shuffle(digits, align), Vector256.Create((short)0x0110).AsSByte());
        return Avx2.PackUnsignedSaturate(pairs, pairs).AsUInt64();
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
