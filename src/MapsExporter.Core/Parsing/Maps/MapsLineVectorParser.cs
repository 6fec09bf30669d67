using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MapsExporter.Core.Parsing.Maps;

/// <summary>
/// A maps line as the kernel prints it, read from four 16-byte loads (SSE2 and AdvSimd, so every CPU of either
/// baseline takes it): the hex and decimal digit masks of its
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
        if (!Vector128.IsHardwareAccelerated || !BitConverter.IsLittleEndian)
        {
            return false;
        }

        // Four blocks written out: a loop's variable shifts and counter cost more than the masks (baseline x86-64).
        ref byte line = ref Unsafe.Add(ref MemoryMarshal.GetReference(text), start);
        Vector128<byte> block0 = Vector128.LoadUnsafe(ref line), block1 = Vector128.LoadUnsafe(ref line, 16);
        Vector128<byte> block2 = Vector128.LoadUnsafe(ref line, 32), block3 = Vector128.LoadUnsafe(ref line, 48);
        Vector128<byte> digits0 = ByteRange.Digits(block0), digits1 = ByteRange.Digits(block1), digits2 = ByteRange.Digits(block2), digits3 = ByteRange.Digits(block3);
        ulong inLine = length >= 64 ? ulong.MaxValue : (1UL << length) - 1;
        ulong hex = Join(digits0 | ByteRange.HexLetters(block0), digits1 | ByteRange.HexLetters(block1), digits2 | ByteRange.HexLetters(block2), digits3 | ByteRange.HexLetters(block3)) & inLine;
        ulong decimalDigits = Join(digits0, digits1, digits2, digits3) & inLine;

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

        // Every width from 1 to its limit, as one unsigned compare each and one branch.
        if ((uint)(startDigits - 1) >= 16 | (uint)(endDigits - 1) >= 16 | (uint)(offsetDigits - 1) >= 16 | (uint)(majorDigits - 1) >= 3
            | (uint)(minorDigits - 1) >= 5 | (uint)(inodeDigits - 1) >= 16 | inodeEnd >= ReadableBytes | inodeEnd > length)
        {
            return false;
        }

        // The separators, all within the line (inodeEnd <= length).
        if ((Unsafe.Add(ref line, startDigits) != (byte)'-') | (Unsafe.Add(ref line, permsAt - 1) != (byte)' ') | (Unsafe.Add(ref line, offsetAt - 1) != (byte)' ')
            | (Unsafe.Add(ref line, majorAt - 1) != (byte)' ') | (Unsafe.Add(ref line, minorAt - 1) != (byte)':') | (Unsafe.Add(ref line, inodeAt - 1) != (byte)' ')
            | (inodeEnd < length && Unsafe.Add(ref line, inodeEnd) != (byte)' ')
            || !MapsLineParser.TryParsePermissions(text.Slice(start + permsAt, 4), out Permissions perms))
        {
            return false;
        }

        ulong startAddress = HexValue(block0, startDigits);
        ulong endAddress = HexValue(Vector128.LoadUnsafe(ref line, (nuint)endAt), endDigits);
        if (endAddress < startAddress)
        {
            return false;
        }

        ulong offset = HexValue(Vector128.LoadUnsafe(ref line, (nuint)offsetAt), offsetDigits);

        ReadOnlySpan<byte> fields = text.Slice(start, length);
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
    private static ulong Join(Vector128<byte> block0, Vector128<byte> block1, Vector128<byte> block2, Vector128<byte> block3) =>
        block0.ExtractMostSignificantBits() | ((ulong)block1.ExtractMostSignificantBits() << 16)
        | ((ulong)block2.ExtractMostSignificantBits() << 32) | ((ulong)block3.ExtractMostSignificantBits() << 48);

    /// <summary>
    /// The number the first <paramref name="digits"/> (1 to 16) hex digits (lowercase, already checked) of
    /// <paramref name="text"/> write: the bytes after them cleared, pairs of digits to bytes, read big-endian, shifted
    /// down by the digits missing from 16. Shifts, adds and compares only, so every CPU of either baseline takes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HexValue(Vector128<byte> text, int digits)
    {
        Vector128<byte> values = (text - Vector128.Create((byte)'0') - (ByteRange.HexLetters(text) & Vector128.Create((byte)('a' - '0' - 10)))) & PrefixMask.Of128(digits);
        // Each 16-bit lane: its low byte (the more significant digit) times 16, plus its high byte.
        Vector128<ushort> pairs = ((values.AsUInt16() << 4) & Vector128.Create((ushort)0x00f0)) | (values.AsUInt16() >>> 8);
        return BinaryPrimitives.ReverseEndianness(Vector128.Narrow(pairs, pairs).AsUInt64().ToScalar()) >> ((16 - digits) * 4);
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
